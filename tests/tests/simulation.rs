//! The real node in deterministic simulation: every run starts from empty disks and goes
//! through a fault schedule drawn from its seed (crashes and restarts from disk, disk
//! losses, pauses, symmetric and one-way partitions, held links, latency, admin requests),
//! then a calm phase in which the orchestrator is killed and must be failed over in time.
//! The committed histories of all hosts are checked after every run.

use failover_core::Design;
use failover_impl::sim::{self, history::Checks, Liveness, Options};
use failover_tests::{batch, seeds};

fn assert_holds(nodes: u16, count: u64) {
    let summary = batch(Design::Fenced, nodes, count);
    assert_eq!(summary.runs as u64, count, "every seed ran");
    assert!(
        summary.failed.is_empty(),
        "fenced broke a property (replay: failover sim --seed S --nodes {nodes}): {:?}",
        summary.failed
    );
    assert!(
        summary.liveness_missed.is_empty(),
        "a killed orchestrator was not failed over in time (seeds {:?})",
        summary.liveness_missed
    );
    // The runs must reach what they are about, or they prove nothing.
    assert!(
        summary.faults as u64 >= 5 * count,
        "{} faults",
        summary.faults
    );
    assert!(
        summary.failovers as u64 >= count,
        "{} failovers",
        summary.failovers
    );
    assert!(
        summary.liveness_checked as u64 * 10 >= count * 8,
        "liveness checked in only {} of {count} runs",
        summary.liveness_checked
    );
}

#[test]
fn fenced_holds_on_three_nodes() {
    assert_holds(3, seeds(250));
}

#[test]
fn fenced_holds_on_five_nodes() {
    assert_holds(5, seeds(250));
}

#[test]
fn poc_and_legacy_are_caught_breaking_safety() {
    for design in [Design::Poc, Design::Legacy] {
        let summary = batch(design, 3, 40);
        // Committing without a majority is their design; losing an update is the harm.
        let lost_update = &summary.violated["committed configs form one chain"];
        println!("{design}: one chain broken on seeds {lost_update:?}");
        assert!(!lost_update.is_empty());
    }
    let poc = batch(Design::Poc, 3, 40);
    let twice = &poc.violated["at most one failover per node"];
    println!("poc: a node failed over twice on seeds {twice:?}");
    assert!(!twice.is_empty());
}

#[test]
fn a_seed_replays_exactly() {
    let options = Options::default();
    let (a, b) = (sim::run(11, &options), sim::run(11, &options));
    assert!(a.journal.len() > 1_000, "{} steps", a.journal.len());
    assert_eq!(a.journal, b.journal, "the same seed, the same run");
    let c = sim::run(12, &options);
    assert_ne!(a.journal, c.journal, "another seed, another run");
}

#[test]
fn the_history_checks_catch_tampered_records() {
    let options = Options::default();
    let run = sim::run(3, &options);
    assert!(run.passed(), "{run}");
    let checks = Checks {
        nodes: 3,
        design: Design::Fenced,
        max_count: 1,
        start_ms: sim::world::EPOCH_MS,
    };
    assert_eq!(
        checks.run(&run.journal),
        Vec::new(),
        "the untouched run passes"
    );
    // Drop what the nodes persisted: every commit is then held by no disk.
    let mut forgetful = run.journal.clone();
    for r in &mut forgetful {
        r.persist = None;
    }
    let found = checks.run(&forgetful);
    assert!(
        found
            .iter()
            .any(|v| v.property == "no commit without a majority"),
        "{found:?}"
    );
    // Report a failover twice, in two revisions.
    let mut twice = run.journal.clone();
    let (i, record) = twice
        .iter()
        .enumerate()
        .find_map(|(i, r)| {
            let c = r.commit.as_ref()?;
            c.config.history.first().map(|f| (i, *f))
        })
        .expect("the run committed a failover");
    let commit = twice[i].commit.as_mut().unwrap();
    let mut config = commit.config.to_owned_config();
    config.history.push(failover_core::FailoverRecord {
        revision: record.revision + 1,
        ..record
    });
    commit.config = config.into();
    let found = checks.run(&twice);
    assert!(
        found
            .iter()
            .any(|v| v.property == "at most one failover per node"),
        "{found:?}"
    );
    assert!(matches!(
        run.liveness,
        Liveness::FailedOver(_) | Liveness::NotChecked(_)
    ));
}
