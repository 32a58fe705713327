//! Expected results of the three designs under the default bounds (the README's
//! comparison). Each check also pins a floor on the unique states it explored, so that a
//! change that silently shrinks the search (a bound, a pruning, a dropped fault) fails here.

mod common;

use common::*;
use failover_core::Design;
use failover_model::properties::*;
use failover_model::{FailoverModel, Status, Timing};
use stateright::{Model, Path};

#[test]
fn fenced_three_nodes_async_holds() {
    // Unclean shutdown, pause/resume, crashes between disk write and send; max term 3
    // (450,966 states on 2026-12-05 since the pre-vote floor is on disk, nodedowns inert).
    let report = run(&setup(Design::Fenced, 3, Timing::Async));
    assert_passes(&report, 440_000);
    assert_has(&report, DEPOSED_PROPOSED, Status::Witnessed);
    assert_has(&report, FENCED_RESUMED, Status::Witnessed);
    assert_has(&report, NO_WORK_BY_DEPOSED, Status::Holds);
}

#[test]
fn fenced_three_nodes_timed_every_fault_kind_holds() {
    // Unclean shutdown, pause/resume, message loss, a partition and a rebalance in one run.
    let s = setup(Design::Fenced, 3, Timing::Timed);
    let b = &s.bounds;
    assert!(b.unclean_shutdowns >= 1 && b.pauses >= 1 && b.losses >= 1);
    assert!(b.partitions >= 1 && b.rebalances >= 1);
    // 2,047,891 states on 2026-12-05 since the stickiness fix, nodedowns inert.
    let report = run(&s);
    assert_passes(&report, 2_000_000);
    for name in [
        ORCHESTRATOR_IN_TIME,
        OTHER_IN_TIME,
        NO_HEALTHY_FAILED_OVER,
        REPLACED_IN_TIME,
        STEPS_DOWN_IN_TIME,
        KEPT_WHILE_ABLE,
    ] {
        assert_has(&report, name, Status::Holds);
    }
    for name in [BLOCKED_BY_REBALANCE, DATA_MOVED, ORPHAN_ENDED] {
        assert_has(&report, name, Status::Witnessed);
    }
}

#[test]
fn poc_fails_a_node_over_twice() {
    let report = run(&setup(Design::Poc, 3, Timing::Timed));
    assert!(report.exhaustive);
    let p = report
        .properties
        .iter()
        .find(|p| p.name == AT_MOST_ONE_FAILOVER)
        .unwrap();
    assert_eq!(p.status, Status::Violated);
    assert!(p.shortest, "the counterexample is minimised");
    assert!(
        p.trace.len() <= 12,
        "short counterexample, got {}",
        p.trace.len()
    );
    let committed = p
        .trace
        .iter()
        .flat_map(|s| &s.changes)
        .filter(|c| c.starts_with("FAILOVER COMMITTED: n0"))
        .count();
    assert_eq!(
        committed, 2,
        "the trace shows both failovers of the same node"
    );
    for name in [
        QUOTA_RESPECTED,
        ONE_CHAIN,
        FAILED_OVER_CHANGES_NOTHING,
        NO_HEALTHY_FAILED_OVER,
    ] {
        assert_has(&report, name, Status::Violated);
    }
    assert!(
        report.unique_states >= 4_000_000,
        "{}",
        report.unique_states
    );
}

#[test]
fn poc_async_breaks_quota_and_majority() {
    let report = run(&setup(Design::Poc, 3, Timing::Async));
    assert!(report.exhaustive);
    for name in [
        QUOTA_RESPECTED,
        NO_COMMIT_WITHOUT_MAJORITY,
        ONE_CONFIG_PER_SLOT,
    ] {
        assert_has(&report, name, Status::Violated);
    }
    assert!(report.unique_states >= 55_000, "{}", report.unique_states);
}

#[test]
fn legacy_orchestrator_waits_for_late_nodedown() {
    let report = run(&setup(Design::Legacy, 3, Timing::Timed));
    assert!(report.exhaustive);
    let p = report
        .properties
        .iter()
        .find(|p| p.name == ORCHESTRATOR_IN_TIME)
        .unwrap();
    assert_eq!(p.status, Status::Violated);
    assert!(p.shortest);
    // Any other node is failed over in time: only the orchestrator is slow.
    assert_has(&report, OTHER_IN_TIME, Status::Holds);
    assert!(
        report.unique_states >= 4_000_000,
        "{}",
        report.unique_states
    );
}

#[test]
fn counterexample_replays_to_a_violation() {
    let s = setup(Design::Poc, 3, Timing::Async);
    let model = FailoverModel::new(s);
    let property = model.property(NO_COMMIT_WITHOUT_MAJORITY);
    let path = failover_model::trace::shortest_path(
        &model,
        |state| !(property.condition)(&model, state),
        1_000_000,
    )
    .expect("poc commits without a majority");
    let actions = path.clone().into_actions();
    let init = model.init_states().remove(0);
    let replay = Path::from_actions(&model, init, &actions).expect("a behaviour of the model");
    assert!(!(property.condition)(&model, replay.last_state()));
    assert!(path.encode(&model).starts_with("0/"));
}
