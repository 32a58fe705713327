//! The property catalogue: named sentences, each with why it matters. `specs/properties.md`
//! explains them at length. Each reads facts the observer computed on its own
//! ([`crate::observe`]), never the core's verdicts.

use crate::model::FailoverModel;
use crate::setup::{Nodedowns, Setup, Timing};
use crate::state::State;
use failover_core::Design;
use stateright::Property;

/// Never two failovers of one node: a second one would act on a node that is already out,
/// on a stale view (the hazard of two actors).
pub const AT_MOST_ONE_FAILOVER: &str = "at most one failover per node";
/// No more automatic failovers per quota period than `max_count`: the quota is what keeps
/// a flapping network from emptying the cluster.
pub const QUOTA_RESPECTED: &str = "failover quota respected";
/// No failover while another node's rebalance runs in the same term, unless
/// `canAbortRebalance` is on and the failover stops it in the same commit: a failover in
/// the middle of moving data can lose it.
pub const NO_FAILOVER_DURING_REBALANCE: &str = "no failover during rebalance";
/// No failover committed on top of a config that switched auto-failover off.
pub const NO_FAILOVER_WHILE_DISABLED: &str = "no failover while switched off";
/// Every config a node reports as committed, made or learned, is on a majority of disks, so
/// that no minority and no later crash can undo or contradict it.
pub const NO_COMMIT_WITHOUT_MAJORITY: &str = "no commit without a majority";
/// Committed configs form one chain: each holds every failover and every data move of
/// every older one (no lost update).
pub const ONE_CHAIN: &str = "committed configs form one chain";
/// Never two different configs accepted for one term and revision (two leaders of one
/// term can never become two commits).
pub const ONE_CONFIG_PER_SLOT: &str = "one config per term and revision";
/// In each term at most one node proposes.
pub const ONE_ORCHESTRATOR_PER_TERM: &str = "one acting orchestrator per term";
/// Nothing a node proposes after its own failover was committed is ever committed, whatever
/// old state it resumes or restarts with: it is out of the cluster.
pub const FAILED_OVER_CHANGES_NOTHING: &str = "failed-over node changes nothing";
/// Nothing an orchestrator proposes after a majority promised a newer term is ever
/// committed: no rebalance step, no failover, no admin change of a deposed orchestrator.
pub const NO_WORK_BY_DEPOSED: &str = "no work by a deposed orchestrator";
/// Nothing a node sends claims more than its disk holds (a promise, an acceptance, a
/// config): the invariant behind persist-before-send.
pub const NOTHING_BEYOND_DISK: &str = "nothing sent beyond the disk";
/// A node is failed over only after its issuer missed it for the configured timeout.
pub const NO_PREMATURE_FAILOVER: &str = "no premature failover";
/// A lost orchestrator is failed over within timeout + slack ticks while the rest of the
/// cluster stays healthy (longer only while a live rebalance blocks it): the goal.
pub const ORCHESTRATOR_IN_TIME: &str = "orchestrator failed over in time";
/// The same bound for any other lost node: the yardstick for the orchestrator.
pub const OTHER_IN_TIME: &str = "other node failed over in time";
/// Only nodes touched by a fault are ever failed over.
pub const NO_HEALTHY_FAILED_OVER: &str = "no healthy node failed over";
/// An orchestrator that can no longer lead (down, paused, cut off, deaf) is replaced within
/// master timeout + slack ticks while the rest is healthy.
pub const REPLACED_IN_TIME: &str = "orchestrator replaced in time";
/// Once every node runs and every link is whole, the cluster has an orchestrator within
/// master timeout + slack + 2 ticks (unless no node that holds its disk may lead): no
/// combination of earlier faults leaves it unable to elect for ever.
pub const REGAINED_IN_TIME: &str = "healed cluster regains an orchestrator in time";
/// An orchestrator that hears no majority gives up office within the master timeout.
pub const STEPS_DOWN_IN_TIME: &str = "cut-off orchestrator steps down in time";
/// An orchestrator that could always lead (never down, paused, or cut from a majority) is
/// never replaced: flapping links and lone nodes do not move the role.
pub const KEPT_WHILE_ABLE: &str = "orchestrator kept while it can lead";
/// Witness: the orchestrator was failed over at least once.
pub const ORCHESTRATOR_FAILED_OVER: &str = "orchestrator failed over";
/// Witness: a node other than the orchestrator was failed over.
pub const OTHER_FAILED_OVER: &str = "other node failed over";
/// Witness: a rebalance blocked a failover.
pub const BLOCKED_BY_REBALANCE: &str = "failover blocked by rebalance";
/// Witness: the quota blocked a failover.
pub const BLOCKED_BY_QUOTA: &str = "failover blocked by quota";
/// Witness: a paused orchestrator woke up after it had been failed over.
pub const FENCED_RESUMED: &str = "fenced orchestrator resumed";
/// Witness: a deposed orchestrator proposed a change (which must never commit).
pub const DEPOSED_PROPOSED: &str = "deposed orchestrator proposed";
/// Witness: a rebalance step moved data.
pub const DATA_MOVED: &str = "rebalance moved data";
/// Witness: a failover aborted a live rebalance (`canAbortRebalance` on).
pub const REBALANCE_ABORTED: &str = "failover aborted a rebalance";
/// Witness: a new orchestrator ended the rebalance of an older term.
pub const ORPHAN_ENDED: &str = "orphaned rebalance ended";
/// Witness: a deaf orchestrator was replaced.
pub const DEAF_REPLACED: &str = "deaf orchestrator replaced";
/// Witness: a node that lost its disk was readmitted.
pub const REJOINED: &str = "node rejoined after disk loss";
/// Premise of inert `nodedown`s (`--nodedowns inert`): at every state, every node that
/// could take an input would ignore a `nodedown` of any peer. Violated, it means the core
/// reacts to `nodedown`, so the run's reduction does not apply: check with
/// `--nodedowns queued`.
pub const NODEDOWNS_INERT: &str = "nodedowns change nothing (premise)";
/// Probe (not a verdict): the search reached the term or revision bound somewhere.
pub const CUT_AT_BOUND: &str = "search reached a term or revision bound";
/// Probe (not a verdict): a time bound was being watched where the search was cut.
pub const WATCH_CUT: &str = "time bound watched at a cut";

/// Names of the probes: reported, but neither pass nor fail a run by themselves.
pub const PROBES: [&str; 2] = [CUT_AT_BOUND, WATCH_CUT];

/// The in-time properties that a [`WATCH_CUT`] makes unknown.
pub const TIME_BOUNDS: [&str; 5] = [
    ORCHESTRATOR_IN_TIME,
    OTHER_IN_TIME,
    REPLACED_IN_TIME,
    REGAINED_IN_TIME,
    STEPS_DOWN_IN_TIME,
];

// Both are evaluated at every state and the records are few: pairwise counts, no maps.
fn at_most_one(_: &FailoverModel, s: &State) -> bool {
    let records = &s.ghost.records;
    records
        .iter()
        .enumerate()
        .all(|(i, r)| records.iter().skip(i + 1).all(|q| q.node != r.node))
}

fn quota(m: &FailoverModel, s: &State) -> bool {
    let records = &s.ghost.records;
    records.iter().all(|r| {
        let in_epoch = records.iter().filter(|q| q.quota_epoch == r.quota_epoch);
        in_epoch.count() <= m.setup.max_count as usize
    })
}

/// Whether a time bound is judged at `s`: with faults in flight, only once the tick's
/// delivery is done, as in the default timed mode (where a tick and its delivery are one
/// step), so that both modes give the bounds the same meaning.
fn judged(m: &FailoverModel, s: &State) -> bool {
    !m.setup.faults_in_flight || !m.owes_delivery(s)
}

fn in_time(m: &FailoverModel, s: &State, orchestrator: bool) -> bool {
    if !judged(m, s) {
        return true;
    }
    match s.ghost.watch {
        Some(w) if w.orchestrator == orchestrator => s.now <= w.deadline,
        _ => true,
    }
}

fn steps_down(m: &FailoverModel, s: &State) -> bool {
    if !judged(m, s) {
        return true;
    }
    s.ghost.quorumless_since.iter().all(|(node, since)| {
        let slot = s.slot(*node);
        s.now <= since.saturating_add(m.setup.master_ticks as u8) || !slot.node.is_orchestrator()
    })
}

fn watching(s: &State) -> bool {
    s.ghost.watch.is_some()
        || s.ghost.office_watch.is_some()
        || s.ghost.heal_watch.is_some()
        || !s.ghost.quorumless_since.is_empty()
}

/// The properties checked for `setup`, in the order reports list them.
pub fn for_setup(setup: &Setup) -> Vec<Property<FailoverModel>> {
    let fenced = setup.design == Design::Fenced;
    let timed = setup.timing == Timing::Timed;
    let mut props = vec![
        Property::always(AT_MOST_ONE_FAILOVER, at_most_one),
        Property::always(QUOTA_RESPECTED, quota),
        Property::always(NO_FAILOVER_DURING_REBALANCE, |_, s: &State| {
            !s.ghost.violations.during_rebalance
        }),
        Property::always(NO_FAILOVER_WHILE_DISABLED, |_, s: &State| {
            !s.ghost.violations.while_disabled
        }),
        Property::always(NO_COMMIT_WITHOUT_MAJORITY, |_, s: &State| {
            !s.ghost.violations.without_majority
        }),
        Property::always(ONE_CHAIN, |_, s: &State| !s.ghost.violations.not_one_chain),
        Property::always(ONE_CONFIG_PER_SLOT, |_, s: &State| {
            !s.ghost.violations.two_configs_in_a_slot
        }),
        Property::always(FAILED_OVER_CHANGES_NOTHING, |_, s: &State| {
            !s.ghost.violations.failed_over_acted
        }),
        Property::always(NOTHING_BEYOND_DISK, |_, s: &State| {
            !s.ghost.violations.beyond_disk
        }),
        Property::always(NO_PREMATURE_FAILOVER, |_, s: &State| {
            !s.ghost.violations.premature
        }),
    ];
    if fenced {
        props.push(Property::always(
            ONE_ORCHESTRATOR_PER_TERM,
            |_, s: &State| !s.ghost.violations.two_proposers_in_a_term,
        ));
        props.push(Property::always(NO_WORK_BY_DEPOSED, |_, s: &State| {
            !s.ghost.violations.deposed_work
        }));
    }
    if setup.nodedowns == Nodedowns::Inert {
        props.push(Property::always(NODEDOWNS_INERT, |m, s: &State| {
            m.nodedowns_inert(s)
        }));
    }
    if timed {
        props.push(Property::always(ORCHESTRATOR_IN_TIME, |m, s: &State| {
            in_time(m, s, true)
        }));
        props.push(Property::always(OTHER_IN_TIME, |m, s: &State| {
            in_time(m, s, false)
        }));
        props.push(Property::always(NO_HEALTHY_FAILED_OVER, |_, s: &State| {
            s.ghost
                .records
                .iter()
                .all(|r| s.ghost.disturbed.contains(&r.node))
        }));
    }
    if timed && fenced {
        props.push(Property::always(REPLACED_IN_TIME, |m, s: &State| {
            !judged(m, s) || s.ghost.office_watch.is_none_or(|w| s.now <= w.deadline)
        }));
        props.push(Property::always(REGAINED_IN_TIME, |m, s: &State| {
            !judged(m, s) || s.ghost.heal_watch.is_none_or(|deadline| s.now <= deadline)
        }));
        props.push(Property::always(STEPS_DOWN_IN_TIME, steps_down));
        props.push(Property::always(KEPT_WHILE_ABLE, |_, s: &State| {
            !s.ghost.violations.healthy_orchestrator_replaced
        }));
    }
    // Witnesses are required only where the bounds let them happen, so that a green run is
    // never vacuous and a narrow run is not failed for what it excludes.
    let b = &setup.bounds;
    // Losses that can get a node failed over. In timed a node is failed over only after
    // `timeout_ticks` missed ticks, so fewer late heartbeats than that cannot.
    let late_losses = if timed && u32::from(b.late_heartbeats) < setup.timeout_ticks {
        0
    } else {
        b.late_heartbeats
    };
    let losses = b.node_losses() - b.late_heartbeats + late_losses;
    // In fenced a single missed heartbeat cannot depose the orchestrator (its peers still
    // hear it), and a one-way cut leaves it heard by a majority (a deaf orchestrator is
    // replaced, not failed over), so only the loss of a node can get it failed over.
    let orchestrator_losses = if fenced {
        losses - late_losses - b.one_way_cuts
    } else {
        losses
    };
    if orchestrator_losses > 0 {
        props.push(Property::sometimes(
            ORCHESTRATOR_FAILED_OVER,
            |_, s: &State| {
                s.ghost
                    .records
                    .iter()
                    .any(|r| s.ghost.lost_orchestrators.contains(&r.node))
            },
        ));
    }
    if losses > 0 {
        props.push(Property::sometimes(OTHER_FAILED_OVER, |_, s: &State| {
            s.ghost
                .records
                .iter()
                .any(|r| !s.ghost.lost_orchestrators.contains(&r.node))
        }));
    }
    if b.rebalances > 0 && !setup.can_abort_rebalance && losses > 0 {
        props.push(Property::sometimes(BLOCKED_BY_REBALANCE, |_, s: &State| {
            s.ghost.seen.blocked_by_rebalance
        }));
    }
    if b.rebalances > 0 {
        props.push(Property::sometimes(DATA_MOVED, |_, s: &State| {
            s.ghost.seen.data_moved
        }));
    }
    if b.rebalances > 0 && setup.can_abort_rebalance && losses > 0 {
        props.push(Property::sometimes(REBALANCE_ABORTED, |_, s: &State| {
            s.ghost.seen.rebalance_aborted
        }));
    }
    if fenced && b.rebalances > 0 && (b.pauses > 0 || b.partitions + b.one_way_cuts > 0) {
        props.push(Property::sometimes(ORPHAN_ENDED, |_, s: &State| {
            s.ghost.seen.orphan_rebalance_ended
        }));
    }
    // After a second loss a majority must be left to see the quota refuse: with crashes
    // alone that takes five nodes (a three-node leader that hears nobody steps down).
    let recoverable = b.pauses + b.partitions + b.one_way_cuts + late_losses;
    if losses >= 2 && setup.max_count == 1 && (recoverable > 0 || setup.nodes >= 5) {
        props.push(Property::sometimes(BLOCKED_BY_QUOTA, |_, s: &State| {
            s.ghost.seen.blocked_by_quota
        }));
    }
    if b.pauses > 0 {
        props.push(Property::sometimes(FENCED_RESUMED, |_, s: &State| {
            s.ghost.seen.fenced_resumed
        }));
    }
    // A resumed orchestrator proposes only if it has something to propose: a failover of
    // another lost node, a rebalance step or an administrator's change. In timed it hears
    // its peers' heartbeats before it ticks, and a heartbeat that shows a newer term makes
    // it step down first: only an administrator's command between the resume and the tick
    // still reaches it in office.
    let admin = b.rebalances + b.quota_resets + b.settings_changes > 0;
    let something_to_propose = admin || (!timed && losses > b.pauses);
    if fenced && b.pauses > 0 && something_to_propose {
        props.push(Property::sometimes(DEPOSED_PROPOSED, |_, s: &State| {
            s.ghost.seen.deposed_proposed
        }));
    }
    if fenced && timed && b.one_way_cuts > 0 {
        props.push(Property::sometimes(DEAF_REPLACED, |_, s: &State| {
            s.ghost.seen.deaf_orchestrator_replaced
        }));
    }
    if fenced && b.disk_losses > 0 {
        props.push(Property::sometimes(REJOINED, |_, s: &State| {
            s.ghost.seen.rejoined
        }));
    }
    props.push(Property::sometimes(
        CUT_AT_BOUND,
        |m: &FailoverModel, s: &State| m.at_bound(s),
    ));
    if timed {
        props.push(Property::sometimes(
            WATCH_CUT,
            |m: &FailoverModel, s: &State| m.at_bound(s) && watching(s),
        ));
    }
    props
}
