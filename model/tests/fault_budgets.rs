//! What a fault budget adds to a run: every state of a run with fewer faults is a state of a
//! run with more (the added faults unspent), whether or not the larger run keeps a write
//! apart from its sends and whatever order it delivers in; and the states of a run where a
//! fault is unspent are exactly those of the run without that fault. These are the premises
//! of the lower bound on the size of `deep`'s every-kind run (`specs/properties.md`, "How
//! large every kind together is"): the states of the pairs, told apart by which faults
//! they spent, are disjoint sets of its states.

mod common;

use common::*;
use failover_model::profile::{run_of, FaultKind};
use failover_model::state::{Pending, State};
use failover_model::{check, NetworkMode, RunOptions, Setup, Timing};
use std::collections::HashSet;

/// The run of `kinds` as the profiles bound it (3 nodes, async, max term 2, links hold 1).
fn run_of_kinds(kinds: &[FaultKind]) -> Setup {
    run_of(kinds, 3, Timing::Async, 2).setup
}

/// Every state of `setup` (the runs here are small enough to hold).
fn all_states(setup: &Setup) -> Vec<State> {
    reachable(setup, usize::MAX)
}

/// Some node owes a disk write or the sends that wait for it.
fn owes(state: &State) -> bool {
    state.nodes.iter().any(|slot| slot.pending != Pending::Idle)
}

fn fingerprints<'a>(states: impl Iterator<Item = &'a State>) -> HashSet<u64> {
    states.map(failover_model::engine::fingerprint).collect()
}

/// How many faults of `kind` `state` has spent.
fn spent(state: &State, kind: FaultKind) -> u8 {
    let spent = &state.spent;
    match kind {
        FaultKind::Crash => spent.clean_shutdowns,
        FaultKind::Unclean => spent.unclean_shutdowns,
        FaultKind::Pause => spent.pauses,
        FaultKind::Restart => spent.restarts,
        FaultKind::DiskLoss => spent.disk_losses,
        FaultKind::Loss => spent.losses,
        FaultKind::Duplicate => spent.duplicates,
        FaultKind::LateHeartbeat => spent.late_heartbeats,
        FaultKind::Partition => spent.partitions,
        FaultKind::OneWayCut => spent.one_way_cuts,
        FaultKind::Rebalance => spent.rebalances,
        FaultKind::QuotaReset => spent.quota_resets,
        FaultKind::SettingsChange => spent.settings_changes,
    }
}

#[test]
fn a_run_holds_every_state_of_a_run_with_fewer_faults() {
    use FaultKind::*;
    // The smaller runs take a write and its sends as one step once no shutdown is left (an
    // unclean shutdown spent; a pause alone has none) and deliver each link's head; the
    // larger ones keep a crash or an unclean shutdown left, so they take them apart, and a
    // duplicate lets them deliver any message.
    let cases: [(&[FaultKind], &[FaultKind]); 2] = [
        (&[Unclean], &[Crash, Duplicate]),
        (&[Pause], &[Unclean, Duplicate]),
    ];
    for (kinds, added) in cases {
        let fewer = run_of_kinds(kinds);
        let more = run_of_kinds(&[kinds, added].concat());
        assert_ne!(fewer.network, NetworkMode::Unordered);
        assert_eq!(more.network, NetworkMode::Unordered);
        let few = fingerprints(all_states(&fewer).iter());
        let many = all_states(&more);
        let many_prints = fingerprints(many.iter());
        assert!(
            few.is_subset(&many_prints),
            "{} states of {kinds:?} are not states of {added:?} added",
            few.difference(&many_prints).count()
        );
        // Where the added faults are unspent, the larger run has only the states where a
        // node owes a write or its sends beyond those of the smaller one.
        let extra: Vec<&State> = many
            .iter()
            .filter(|s| added.iter().all(|kind| spent(s, *kind) == 0))
            .filter(|s| !few.contains(&failover_model::engine::fingerprint(s)))
            .collect();
        assert!(
            !extra.is_empty(),
            "the larger run keeps writes and sends apart"
        );
        assert!(extra.iter().all(|s| owes(s)), "{kinds:?} with {added:?}");
    }
}

#[test]
fn the_states_where_a_fault_is_unspent_are_those_of_the_run_without_it() {
    let (a, b) = (FaultKind::Rebalance, FaultKind::SettingsChange);
    let pair = all_states(&run_of_kinds(&[a, b]));
    let count = |kinds: &[FaultKind]| {
        let report = check::run(&run_of_kinds(kinds), &RunOptions::default());
        assert!(report.exhaustive);
        report.unique_states
    };
    let unspent = |rebalance: bool, settings: bool| {
        pair.iter()
            .filter(|s| !rebalance || s.spent.rebalances == 0)
            .filter(|s| !settings || s.spent.settings_changes == 0)
            .count()
    };
    assert_eq!(count(&[a, b]), pair.len());
    assert_eq!(unspent(true, false), count(&[b]));
    assert_eq!(unspent(false, true), count(&[a]));
    assert_eq!(unspent(true, true), count(&[]));
    // The sub-runs as `specs/properties.md` counts them for the lower bound: a change to
    // the model that moves them makes its figures stale.
    assert_eq!((count(&[a]), count(&[b]), count(&[])), (11_388, 560, 8));
    // So the states where both were spent number |pair| - |a| - |b| + |none|, the sum the
    // lower bound takes; here they are most of the pair.
    let both = pair.len() - unspent(true, false) - unspent(false, true) + unspent(true, true);
    assert_eq!(
        both,
        pair.iter()
            .filter(|s| s.spent.rebalances == 1 && s.spent.settings_changes == 1)
            .count()
    );
    assert!(both > pair.len() / 2);
}
