//! The search behind `check` (`failover_model::engine`) against stateright's own checker,
//! which it replaced for speed: on small configurations of every design and both timings,
//! both visit the same number of unique and generated states and discover the same
//! properties, whichever order and number of threads the engine uses.

mod common;

use common::*;
use failover_core::Design;
use failover_model::check::{self, Search};
use failover_model::profile::FaultKind;
use failover_model::properties::PROBES;
use failover_model::{FailoverModel, RunOptions, Setup, Status, Timing};
use stateright::{Checker, Model};
use std::collections::BTreeSet;

/// Checks `setup` with stateright's breadth-first checker and with the engine in each
/// order on one and on two threads, and compares what they found.
fn same_as_stateright(setup: &Setup) {
    let model = FailoverModel::new(setup.clone());
    let reference = model
        .clone()
        .checker()
        .threads(1)
        .target_max_depth(setup.max_depth)
        .spawn_bfs()
        .join();
    assert!(reference.is_done());
    let expected: BTreeSet<&str> = reference
        .discoveries()
        .into_keys()
        .filter(|name| !PROBES.contains(name))
        .collect();
    for search in [Search::Dfs, Search::Bfs] {
        for threads in [1, 2] {
            let options = RunOptions {
                threads,
                search,
                ..RunOptions::default()
            };
            let report = check::run(setup, &options);
            let what = format!("{} {} {search:?} {threads}", setup.design, setup.timing);
            assert!(report.exhaustive, "{what}");
            assert_eq!(
                report.unique_states,
                reference.unique_state_count(),
                "{what}"
            );
            assert_eq!(report.states, reference.state_count(), "{what}");
            let found: BTreeSet<&str> = report
                .properties
                .iter()
                .filter(|p| matches!(p.status, Status::Violated | Status::Witnessed))
                .map(|p| p.name)
                .collect();
            assert_eq!(found, expected, "{what}");
            // Every violation comes with a path that replays to it.
            for p in report.properties.iter() {
                if p.status == Status::Violated {
                    assert!(!p.trace.is_empty(), "{what}: {}", p.name);
                }
            }
        }
    }
}

#[test]
fn the_engine_visits_what_stateright_visits_in_every_design() {
    same_as_stateright(&setup(Design::Poc, 3, Timing::Async));
    same_as_stateright(&setup(Design::Legacy, 3, Timing::Async));
    same_as_stateright(&ci_run(FaultKind::Crash, FaultKind::Unclean, Timing::Async));
    same_as_stateright(&ci_run(
        FaultKind::Pause,
        FaultKind::Rebalance,
        Timing::Timed,
    ));
}

#[test]
fn a_bug_hunt_stops_at_its_violation_and_is_not_exhaustive() {
    let setup = setup(Design::Poc, 3, Timing::Async);
    let options = RunOptions {
        stop_at: check::StopAt::Violation("no commit without a majority".into()),
        ..RunOptions::default()
    };
    let report = check::run(&setup, &options);
    assert_eq!(
        report.status("no commit without a majority"),
        Some(Status::Violated)
    );
    assert!(!report.exhaustive);
    // Fewer than the full search of these bounds visits (58,276).
    assert!(report.unique_states < 58_276, "{}", report.unique_states);
}
