//! The property catalogue: named sentences, each with why it matters. `specs/properties.md`
//! explains them at length.

use crate::model::FailoverModel;
use crate::setup::{Setup, Timing};
use crate::state::State;
use failover_core::Design;
use stateright::Property;
use std::collections::BTreeMap;

/// Never two failovers of one node: a second one would act on a node that is already out,
/// on a stale view (the hazard of two actors).
pub const AT_MOST_ONE_FAILOVER: &str = "at most one failover per node";
/// No more automatic failovers per quota period than `max_count`: the quota is what keeps
/// a flapping network from emptying the cluster.
pub const QUOTA_RESPECTED: &str = "failover quota respected";
/// No failover of a node while another node's rebalance is committed as running: a
/// failover in the middle of moving data can lose it.
pub const NO_FAILOVER_DURING_REBALANCE: &str = "no failover during rebalance";
/// A failover is committed only once a majority has persisted it, so that no minority and
/// no later crash can undo or contradict it.
pub const NO_FAILOVER_WITHOUT_MAJORITY: &str = "no failover without a majority";
/// In each term at most one node commits: a paused old orchestrator cannot act.
pub const ONE_ORCHESTRATOR_PER_TERM: &str = "one acting orchestrator per term";
/// A node whose failover is committed never commits again, whatever old state it restarts
/// or resumes with: it is out of the cluster.
pub const FAILED_OVER_NEVER_ACTS: &str = "failed-over node never commits";
/// A lost orchestrator is failed over within timeout + slack ticks while the rest of the
/// cluster stays healthy: the goal of the project.
pub const ORCHESTRATOR_IN_TIME: &str = "orchestrator failed over in time";
/// The same bound for any other lost node: the yardstick for the orchestrator.
pub const OTHER_IN_TIME: &str = "other node failed over in time";
/// Only nodes touched by a fault are ever failed over.
pub const NO_HEALTHY_FAILED_OVER: &str = "no healthy node failed over";
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

fn at_most_one(_: &FailoverModel, s: &State) -> bool {
    let mut seen = std::collections::BTreeSet::new();
    s.ghost.records.iter().all(|r| seen.insert(r.node))
}

fn quota(m: &FailoverModel, s: &State) -> bool {
    let mut per_epoch: BTreeMap<u32, u32> = BTreeMap::new();
    for r in &s.ghost.records {
        *per_epoch.entry(r.quota_epoch).or_default() += 1;
    }
    per_epoch.values().all(|count| *count <= m.setup.max_count)
}

fn one_per_term(_: &FailoverModel, s: &State) -> bool {
    let mut seen = BTreeMap::new();
    s.ghost
        .acted
        .iter()
        .all(|(term, node)| *seen.entry(*term).or_insert(*node) == *node)
}

fn in_time(m: &FailoverModel, s: &State, orchestrator: bool) -> bool {
    match s.ghost.watch {
        Some(w) if w.orchestrator == orchestrator => {
            s.now <= w.since.saturating_add(m.setup.failover_bound())
        }
        _ => true,
    }
}

/// The properties checked for `setup`, in the order reports list them.
pub fn for_setup(setup: &Setup) -> Vec<Property<FailoverModel>> {
    let mut props = vec![
        Property::always(AT_MOST_ONE_FAILOVER, at_most_one),
        Property::always(QUOTA_RESPECTED, quota),
        Property::always(NO_FAILOVER_DURING_REBALANCE, |_, s: &State| {
            !s.ghost.during_rebalance
        }),
        Property::always(NO_FAILOVER_WITHOUT_MAJORITY, |_, s: &State| {
            !s.ghost.without_majority
        }),
        Property::always(FAILED_OVER_NEVER_ACTS, |_, s: &State| {
            !s.ghost.failed_over_acted
        }),
    ];
    if setup.design == Design::Fenced {
        props.push(Property::always(ONE_ORCHESTRATOR_PER_TERM, one_per_term));
    }
    if setup.timing == Timing::Timed {
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
    // Witnesses are required only where the bounds let them happen, so that a green run is
    // never vacuous and a narrow run is not failed for what it excludes.
    let b = &setup.bounds;
    let losses_of_nodes =
        b.clean_shutdowns + b.unclean_shutdowns + b.pauses + b.partitions + b.late_heartbeats;
    props.extend([
        Property::sometimes(ORCHESTRATOR_FAILED_OVER, |_, s: &State| {
            s.ghost
                .records
                .iter()
                .any(|r| s.ghost.lost_orchestrators.contains(&r.node))
        }),
        Property::sometimes(OTHER_FAILED_OVER, |_, s: &State| {
            s.ghost
                .records
                .iter()
                .any(|r| !s.ghost.lost_orchestrators.contains(&r.node))
        }),
    ]);
    if b.rebalances > 0 {
        props.push(Property::sometimes(BLOCKED_BY_REBALANCE, |_, s: &State| {
            s.ghost.blocked_by_rebalance
        }));
    }
    if losses_of_nodes >= 2 && setup.max_count == 1 {
        props.push(Property::sometimes(BLOCKED_BY_QUOTA, |_, s: &State| {
            s.ghost.blocked_by_quota
        }));
    }
    if b.pauses > 0 {
        props.push(Property::sometimes(FENCED_RESUMED, |_, s: &State| {
            s.ghost.fenced_resumed
        }));
    }
    props
}
