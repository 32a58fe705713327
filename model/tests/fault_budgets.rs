//! What a fault budget adds to a run: every state of a run with fewer faults is a state of a
//! run with more (the added faults unspent), whether or not the larger run keeps a write
//! apart from its sends and whether it delivers only each link's head or any message; and
//! the states of a run where a fault is unspent are exactly those of the run without that
//! fault. These are the premises of the lower bound on the size of `deep`'s every-kind run
//! (`specs/properties.md`, "How large every kind together is"): the states of the pairs,
//! told apart by which faults they spent, are disjoint sets of its states. The sub-runs
//! that bound takes are pinned here, so that a change to the model shows its figures stale.

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
    let mut spent = state.spent;
    *kind.budget(&mut spent)
}

#[test]
fn a_run_holds_every_state_of_a_run_with_fewer_faults() {
    use FaultKind::*;
    // The smaller runs take a write and its sends as one step once no shutdown is left (an
    // unclean shutdown spent; a pause alone has none) and deliver each link's head; the
    // larger ones keep a crash or an unclean shutdown left, so they take them apart, and a
    // duplicate lets them deliver any message (which differs from the head only where a
    // link holds two).
    let cases: [(&[FaultKind], &[FaultKind], u8); 3] = [
        (&[Unclean], &[Crash, Duplicate], 1),
        (&[Pause], &[Unclean, Duplicate], 1),
        (&[Unclean], &[Crash, Duplicate], 2),
    ];
    for (kinds, added, link_capacity) in cases {
        let mut fewer = run_of_kinds(kinds);
        let mut more = run_of_kinds(&[kinds, added].concat());
        fewer.link_capacity = link_capacity;
        more.link_capacity = link_capacity;
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
        // With links that hold one message, any message is the head: only the owing
        // states are extra. With two, the larger run also delivers out of order, so only
        // the inclusion holds (the lower bound's runs hold one).
        let in_order = extra.iter().all(|s| owes(s));
        assert_eq!(in_order, link_capacity == 1, "{kinds:?} with {added:?}");
    }
}

#[test]
fn the_states_where_a_fault_is_unspent_are_those_of_the_run_without_it() {
    use FaultKind::*;
    // (run, the faults left unspent, the run without them): a pair that needs no
    // shutdown, and the budgets a restart and a disk loss bring (a restart without its
    // restart keeps the unclean shutdown; a disk loss without its disk loss keeps the
    // restart), as the lower bound drops them.
    let cases: [(&[FaultKind], &[FaultKind], &[FaultKind]); 5] = [
        (
            &[Rebalance, SettingsChange],
            &[Rebalance],
            &[SettingsChange],
        ),
        (
            &[Rebalance, SettingsChange],
            &[SettingsChange],
            &[Rebalance],
        ),
        (
            &[Rebalance, SettingsChange],
            &[Rebalance, SettingsChange],
            &[],
        ),
        (&[Restart], &[Restart], &[Unclean]),
        (&[DiskLoss], &[DiskLoss], &[Restart]),
    ];
    for (kinds, unspent, without) in cases {
        let run = run_of_kinds(kinds);
        let smaller = run_of_kinds(without);
        let mut dropped = run.bounds;
        for kind in unspent {
            *kind.budget(&mut dropped) = 0;
        }
        assert_eq!(dropped, smaller.bounds, "{kinds:?} without {unspent:?}");
        assert_eq!(run.network, smaller.network);
        let states = all_states(&run);
        let where_unspent = fingerprints(
            states
                .iter()
                .filter(|s| unspent.iter().all(|kind| spent(s, *kind) == 0)),
        );
        let absent = fingerprints(all_states(&smaller).iter());
        assert_eq!(where_unspent, absent, "{kinds:?} with {unspent:?} unspent");
        assert!(absent.len() < states.len());
    }
}

#[test]
fn the_sub_runs_of_the_lower_bound_have_the_counts_it_uses() {
    use FaultKind::*;
    // `specs/properties.md`, "How large every kind together is" (3 nodes, async, max term
    // 2, links hold 1; the final core of 2026-12-05).
    let sub_runs: [(&[FaultKind], usize); 15] = [
        (&[], 8),
        (&[Pause], 10_294),
        (&[LateHeartbeat], 259_015),
        (&[Partition], 618_518),
        (&[OneWayCut], 298_972),
        (&[Rebalance], 11_388),
        (&[SettingsChange], 560),
        (&[Unclean], 320),
        (&[Restart], 298_352),
        (&[DiskLoss], 322_185),
        (&[Unclean, Pause], 149_245),
        (&[Unclean, LateHeartbeat], 1_294_571),
        (&[Unclean, Partition], 2_540_528),
        (&[Unclean, OneWayCut], 1_471_791),
        (&[Unclean, Rebalance], 179_758),
    ];
    for (kinds, expected) in sub_runs {
        let report = check::run(&run_of_kinds(kinds), &RunOptions::default());
        assert!(report.exhaustive, "{kinds:?}");
        assert_eq!(report.unique_states, expected, "{kinds:?}");
    }
}
