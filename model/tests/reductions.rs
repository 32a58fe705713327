//! The reductions of the search (`specs/properties.md`): each keeps every verdict of the
//! model without it, and each fails loudly where its premise does not hold.

mod common;

use common::*;
use failover_core::Design;
use failover_model::check::{self, Report};
use failover_model::profile::FaultKind;
use failover_model::properties::{NODEDOWNS_INERT, NOTHING_BEYOND_DISK};
use failover_model::state::{Pending, State};
use failover_model::{FailoverModel, NetworkMode, Nodedowns, RunOptions, Status, Timing};

/// Each property's name and status, in report order.
fn verdicts(report: &Report) -> Vec<(&'static str, Status)> {
    report
        .properties
        .iter()
        .map(|p| (p.name, p.status))
        .collect()
}

/// The verdicts without the premise of inert nodedowns (which queued runs do not have).
fn verdicts_but_the_premise(report: &Report) -> Vec<(&'static str, Status)> {
    verdicts(report)
        .into_iter()
        .filter(|(name, _)| *name != NODEDOWNS_INERT)
        .collect()
}

#[test]
fn inert_nodedowns_keep_every_verdict_of_queued_ones() {
    let mut broken = setup(Design::Fenced, 3, Timing::Async);
    broken.unsafe_send_before_persist = true;
    broken.bounds.pauses = 0;
    broken.max_term = 2;
    let cases = [
        ci_run(FaultKind::Unclean, FaultKind::Pause, Timing::Async),
        ci_run(FaultKind::Crash, FaultKind::Loss, Timing::Async),
        ci_run(FaultKind::Pause, FaultKind::OneWayCut, Timing::Timed),
        broken,
    ];
    for mut setup in cases {
        assert_eq!(setup.nodedowns, Nodedowns::Inert, "fenced's default");
        let inert = run(&setup);
        setup.nodedowns = Nodedowns::Queued;
        let queued = run(&setup);
        assert!(inert.exhaustive && queued.exhaustive);
        assert_eq!(inert.status(NODEDOWNS_INERT), Some(Status::Holds));
        assert_eq!(
            verdicts_but_the_premise(&inert),
            verdicts_but_the_premise(&queued),
            "{}",
            check::describe_bounds(&setup)
        );
        assert!(
            inert.unique_states < queued.unique_states,
            "queued nodedowns add states: {} vs {}",
            inert.unique_states,
            queued.unique_states
        );
        // A violation is as short either way: a nodedown the core ignores is never a step
        // a shortest counterexample needs.
        for (i, q) in inert.properties.iter().zip(&queued.properties) {
            if q.status == Status::Violated {
                assert_eq!(i.trace.len(), q.trace.len(), "{}", q.name);
            }
        }
    }
}

#[test]
fn the_inert_reduction_still_catches_the_broken_driver() {
    let mut s = setup(Design::Fenced, 3, Timing::Async);
    s.unsafe_send_before_persist = true;
    s.bounds.pauses = 0;
    s.max_term = 2;
    let report = run(&s);
    assert_eq!(report.status(NOTHING_BEYOND_DISK), Some(Status::Violated));
}

#[test]
fn a_core_that_reacts_to_nodedown_fails_the_premise_of_inert_nodedowns() {
    // legacy's registry drops a lost owner on nodedown: the reduction does not apply, and
    // the run must say so rather than pass.
    let mut s = setup(Design::Legacy, 3, Timing::Async);
    assert_eq!(s.nodedowns, Nodedowns::Queued, "legacy's default");
    s.nodedowns = Nodedowns::Inert;
    let report = run(&s);
    assert_eq!(report.status(NODEDOWNS_INERT), Some(Status::Violated));
    assert!(!report.passed());
    assert!(report.render().contains("--nodedowns queued"));
}

fn owes_a_write(state: &State) -> bool {
    state
        .nodes
        .iter()
        .any(|slot| matches!(slot.pending, Pending::Persist(_)))
}

#[test]
fn a_write_and_its_sends_are_steps_of_their_own_only_while_a_shutdown_is_left() {
    // With an unclean shutdown left, a step that writes leaves its node owing the write, so
    // that the shutdown can fall before it or before the sends.
    let with_shutdown = ci_run(FaultKind::Unclean, FaultKind::Rebalance, Timing::Async);
    let model = FailoverModel::new(with_shutdown.clone());
    let states = reachable(&with_shutdown, 20_000);
    assert!(states.iter().any(owes_a_write));
    assert!(states
        .iter()
        .filter(|s| owes_a_write(s) && !model.at_bound(s))
        .all(|s| s.spent.unclean_shutdowns == 0));
    // With none left, the states in between have one successor each and are not kept.
    // (A state at the term bound is left owing, as it is not expanded.)
    let without = ci_run(FaultKind::Pause, FaultKind::Rebalance, Timing::Async);
    let model = FailoverModel::new(without.clone());
    let states = reachable(&without, 20_000);
    assert_eq!(states.len(), 20_000);
    assert!(states
        .iter()
        .filter(|s| owes_a_write(s))
        .all(|s| model.at_bound(s)));
}

#[test]
fn sleep_sets_visit_every_state_and_keep_every_verdict() {
    let cases = [
        setup(Design::Poc, 3, Timing::Async),
        setup(Design::Legacy, 3, Timing::Async),
        ci_run(FaultKind::Unclean, FaultKind::Rebalance, Timing::Async),
        {
            let mut s = setup(Design::Fenced, 3, Timing::Async);
            s.network = NetworkMode::Outbox;
            s.bounds.pauses = 0;
            s.bounds.unclean_shutdowns = 2;
            s
        },
    ];
    for setup in cases {
        let full = run(&setup);
        let options = RunOptions {
            sleep_sets: true,
            ..RunOptions::default()
        };
        let slept = check::run(&setup, &options);
        let what = check::describe_bounds(&setup);
        assert_eq!(full.unique_states, slept.unique_states, "{what}");
        assert_eq!(verdicts(&full), verdicts(&slept), "{what}");
        assert!(
            slept.states < full.states,
            "fewer successors generated: {} vs {} ({what})",
            slept.states,
            full.states
        );
    }
}
