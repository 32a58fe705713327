//! The search itself: exact state counts of small configurations (so that any change in
//! what the checker visits — a reduction, a new branch, a hashing change that merges
//! states — shows here), the memory bound, and per-run peak memory.

mod common;

use common::*;
use failover_core::Design;
use failover_model::check::{self, peak_rss_mib, reset_peak_rss};
use failover_model::profile::FaultKind;
use failover_model::{NetworkMode, Nodedowns, RunOptions, Status, Timing};

/// The default fenced async setup with no pause, on `network`, with `tune` applied.
fn fenced_async(
    network: NetworkMode,
    tune: impl Fn(&mut failover_model::Setup),
) -> failover_model::Setup {
    let mut s = setup(Design::Fenced, 3, Timing::Async);
    s.network = network;
    s.bounds.pauses = 0;
    tune(&mut s);
    s
}

#[test]
fn small_configurations_visit_exactly_the_pinned_number_of_states() {
    // Three of them pin each network mode's queues (every copy kept, reordering with a
    // duplicate and a dropped link, a loss and a dropped link in FIFO); two pin fenced with
    // its nodedowns queued, the full model of the inert reduction. Counts of 2026-12-05,
    // with nodedowns inert for fenced, a write and its sends one step once no shutdown is
    // left (specs/properties.md), the core's stickiness fix and its pre-vote floor, on disk.
    let queued = |mut s: failover_model::Setup| {
        s.nodedowns = Nodedowns::Queued;
        s
    };
    let cases = [
        (setup(Design::Poc, 3, Timing::Async), 58_276),
        (setup(Design::Legacy, 3, Timing::Async), 43_948),
        (
            ci_run(FaultKind::Crash, FaultKind::Unclean, Timing::Async),
            2_292,
        ),
        (
            queued(ci_run(FaultKind::Crash, FaultKind::Unclean, Timing::Async)),
            9_144,
        ),
        (
            ci_run(FaultKind::Crash, FaultKind::Loss, Timing::Async),
            620,
        ),
        (
            ci_run(FaultKind::Crash, FaultKind::Duplicate, Timing::Async),
            576,
        ),
        (
            fenced_async(NetworkMode::Outbox, |s| s.bounds.unclean_shutdowns = 2),
            2_064,
        ),
        (
            queued(fenced_async(NetworkMode::Outbox, |s| {
                s.bounds.unclean_shutdowns = 2
            })),
            8_232,
        ),
        (
            fenced_async(NetworkMode::Unordered, |s| {
                s.bounds.duplicates = 1;
                s.bounds.link_drops = 1;
            }),
            15_126,
        ),
        (
            fenced_async(NetworkMode::Fifo, |s| {
                s.bounds.losses = 1;
                s.bounds.link_drops = 1;
                s.max_term = 2;
            }),
            1_348,
        ),
    ];
    // Every count is printed and compared at the end, so that one run shows every change.
    let mut changed = Vec::new();
    for (setup, pinned) in cases {
        let report = run(&setup);
        let what = format!(
            "{} {} · {}",
            setup.design,
            setup.timing,
            check::describe_bounds(&setup)
        );
        assert!(report.exhaustive, "{what}");
        println!("{} states (pinned {pinned}): {what}", report.unique_states);
        if report.unique_states != pinned {
            changed.push(format!(
                "{} instead of {pinned}: {what}",
                report.unique_states
            ));
        }
    }
    assert!(
        changed.is_empty(),
        "counts changed:\n{}",
        changed.join("\n")
    );
}

#[test]
fn a_run_past_its_memory_bound_stops_and_is_not_exhaustive() {
    // The default fenced async run takes seconds and more than 1 MiB; with a bound
    // of 1 MiB it must stop at the first look at its memory.
    let options = RunOptions {
        max_memory_mib: Some(1),
        ..RunOptions::default()
    };
    let report = check::run(&setup(Design::Fenced, 3, Timing::Async), &options);
    println!("{}", report.render());
    assert!(report.memory_bound_reached);
    assert!(!report.exhaustive);
    assert!(!report.passed());
    assert_eq!(report.extent(), "NOT exhaustive: memory bound");
    assert!(report.unique_states < 450_966, "the run was cut short");
    for p in report.properties.iter().filter(|p| p.kind == "always") {
        assert_eq!(p.status, Status::Unknown, "{}", p.name);
    }
}

#[test]
fn a_violation_found_past_the_time_bound_is_not_searched_for_again() {
    // poc breaks the quota within a few thousand states, long before the coordinator's
    // first look at the bounds; a bound of zero is then already passed when the shortest
    // counterexample would be searched for, so the trace found is reported as it is.
    let options = RunOptions {
        threads: 1,
        stop_at: failover_model::StopAt::AnyViolation,
        max_time: Some(std::time::Duration::ZERO),
        ..RunOptions::default()
    };
    let report = check::run(&setup(Design::Poc, 3, Timing::Async), &options);
    println!("{}", report.render());
    assert!(
        !report.time_bound_reached,
        "the search itself ended at the violation"
    );
    let violated: Vec<_> = report
        .properties
        .iter()
        .filter(|p| p.status == Status::Violated)
        .collect();
    assert!(!violated.is_empty(), "poc breaks a safety property");
    for p in violated {
        assert!(!p.shortest, "{} was minimised past the bound", p.name);
        assert!(!p.trace.is_empty(), "{} keeps the trace found", p.name);
    }
    // Without a bound the same run minimises.
    let unbounded = RunOptions {
        max_time: None,
        ..options
    };
    let report = check::run(&setup(Design::Poc, 3, Timing::Async), &unbounded);
    assert!(report.properties.iter().any(|p| p.shortest));
}

#[test]
fn each_run_reports_its_own_peak_memory() {
    let big: Vec<u8> = vec![1; 256 << 20];
    assert!(big.iter().step_by(4096).all(|b| *b == 1));
    assert!(peak_rss_mib() >= 256);
    drop(big);
    reset_peak_rss();
    assert!(
        peak_rss_mib() < 200,
        "the peak restarts from the current use, got {} MiB",
        peak_rss_mib()
    );
    // A run started after the big allocation reports its own peak, not the process's.
    let big: Vec<u8> = vec![1; 256 << 20];
    assert!(big.iter().step_by(4096).all(|b| *b == 1));
    drop(big);
    let report = run(&ci_run(FaultKind::Crash, FaultKind::Loss, Timing::Async));
    assert!(
        report.peak_rss_mib < 200,
        "a small run reports {} MiB",
        report.peak_rss_mib
    );
}

#[test]
fn with_faults_in_flight_deadlines_are_armed_and_judged_as_in_the_default_mode() {
    use failover_model::{trace, FailoverModel};
    // Not vacuous: a failover deadline and an office deadline are armed in this mode.
    // (The office deadline needs an orchestrator elected by the cluster: a pause hands the
    // office over, then the new orchestrator is lost.)
    let mut s = ci_run(FaultKind::Unclean, FaultKind::Pause, Timing::Timed);
    assert!(s.faults_in_flight);
    let model = FailoverModel::new(s.clone());
    let watch = |st: &failover_model::state::State| st.ghost.watch.is_some();
    let office = |st: &failover_model::state::State| st.ghost.office_watch.is_some();
    let found = trace::shortest_paths(&model, &[&watch, &office], 2_000_000);
    let armed: Vec<bool> = found.iter().map(Option::is_some).collect();
    assert_eq!(armed, [true, true], "failover and office deadlines armed");
    s = ci_run(FaultKind::Unclean, FaultKind::Loss, Timing::Timed);
    // The bounds mean the same in both modes: with no slack the failover still lands by
    // the end of the deadline's tick in each.
    s.slack_ticks = 0;
    s.horizon = s.failover_bound() + 2;
    for in_flight in [false, true] {
        s.faults_in_flight = in_flight;
        let report = run(&s);
        assert_eq!(
            report.status(failover_model::properties::ORCHESTRATOR_IN_TIME),
            Some(Status::Holds)
        );
        assert_eq!(
            report.status(failover_model::properties::OTHER_IN_TIME),
            Some(Status::Holds)
        );
    }
}

#[test]
fn in_timed_a_loss_reaches_messages_in_flight_only_between_deliveries() {
    // With each tick's deliveries carried out at once, a loss can only hit a message to a
    // paused node: without a pause, one loss adds no state. With faults in flight it can
    // hit any message of a tick.
    let count = |losses: u8, in_flight: bool| {
        let mut s = setup(Design::Fenced, 3, Timing::Timed);
        s.bounds = failover_model::Bounds {
            unclean_shutdowns: 1,
            losses,
            ..Default::default()
        };
        s.faults_in_flight = in_flight;
        let report = run(&s);
        assert_safe(&report, 1);
        report.unique_states
    };
    assert_eq!(count(0, false), count(1, false));
    assert!(count(1, true) > count(0, true));
}

#[test]
fn with_heartbeats_as_messages_poc_still_breaks_the_quota() {
    // The mode replays of recorded runs use: heartbeats in flight like any message. Too
    // big to search whole, but a breadth-first hunt finds what the default mode finds.
    let mut s = setup(Design::Poc, 3, Timing::Async);
    s.heartbeats = failover_model::Heartbeats::Messages;
    let options = RunOptions {
        search: failover_model::Search::Bfs,
        stop_at: failover_model::StopAt::Violation("failover quota respected".into()),
        max_time: Some(std::time::Duration::from_secs(120)),
        ..RunOptions::default()
    };
    let report = check::run(&s, &options);
    let quota = report
        .properties
        .iter()
        .find(|p| p.name == "failover quota respected")
        .unwrap();
    assert_eq!(quota.status, Status::Violated, "{}", report.render());
    // And the mode is refused where it has no meaning.
    let mut timed = setup(Design::Fenced, 3, Timing::Timed);
    timed.heartbeats = failover_model::Heartbeats::Messages;
    assert!(timed.validate().is_err());
}
