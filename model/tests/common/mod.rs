//! Helpers shared by the model's test files: run a check, and assert what a passing run
//! must show.

#![allow(dead_code)]

use failover_core::Design;
use failover_model::profile::{self, FaultKind, Profile};
use failover_model::state::State;
use failover_model::{check, FailoverModel, Report, RunOptions, Setup, Status, Timing};
use stateright::Model;
use std::collections::{HashSet, VecDeque};

/// Runs `setup` and prints the report (shown when a test fails).
pub fn run(setup: &Setup) -> Report {
    let report = check::run(setup, &RunOptions::default());
    println!("{}", report.render());
    report
}

/// The run of the `ci` profile that combines `a` and `b` in `timing`.
pub fn ci_run(a: FaultKind, b: FaultKind, timing: Timing) -> Setup {
    profile::runs(Profile::Ci)
        .into_iter()
        .find(|r| r.kinds == [a, b] && r.setup.timing == timing)
        .expect("the ci profile holds every pair")
        .setup
}

/// The default setup of `design`.
pub fn setup(design: Design, nodes: u16, timing: Timing) -> Setup {
    Setup::new(design, nodes, timing)
}

/// Exhaustive within the bounds, every always-property holds, every witness seen, and at
/// least `floor` unique states explored (so that a change that silently shrinks the search
/// fails here).
pub fn assert_passes(report: &Report, floor: usize) {
    assert!(report.exhaustive, "the search must not be cut short");
    for p in &report.properties {
        let expected = if p.kind == "always" {
            Status::Holds
        } else {
            Status::Witnessed
        };
        assert_eq!(p.status, expected, "{}", p.name);
    }
    assert!(report.passed());
    assert!(
        report.unique_states >= floor,
        "explored {} unique states, expected at least {floor}",
        report.unique_states
    );
}

/// Exhaustive within the bounds, every always-property holds and at least `floor` unique
/// states explored; the caller asserts the witnesses its scenario is about (a slice too
/// short for some scenario, such as a second failover, need not see it).
pub fn assert_safe(report: &Report, floor: usize) {
    assert!(report.exhaustive, "the search must not be cut short");
    for p in report.properties.iter().filter(|p| p.kind == "always") {
        assert_eq!(p.status, Status::Holds, "{}", p.name);
    }
    assert!(
        report.unique_states >= floor,
        "explored {} unique states, expected at least {floor}",
        report.unique_states
    );
}

/// `report` has a property called `name`, witnessed or holding.
pub fn assert_has(report: &Report, name: &str, status: Status) {
    assert_eq!(report.status(name), Some(status), "{name}");
}

/// Up to `limit` states reachable from the initial one, breadth first.
pub fn reachable(setup: &Setup, limit: usize) -> Vec<State> {
    let model = FailoverModel::new(setup.clone());
    let mut seen = HashSet::new();
    let mut queue: VecDeque<State> = model.init_states().into();
    let mut found = Vec::new();
    let mut actions = Vec::new();
    while let Some(state) = queue.pop_front() {
        if found.len() >= limit {
            break;
        }
        if !seen.insert(failover_model::engine::fingerprint(&state)) {
            continue;
        }
        model.actions(&state, &mut actions);
        for action in actions.drain(..) {
            queue.extend(model.next_state(&state, action));
        }
        found.push(state);
    }
    found
}
