//! The rebalance as term-stamped steps. It belongs to its runner's term; each step moves
//! data only once it is committed (at a majority in that term, in `fenced`), so a runner
//! that lost its term, paused or was cut off can move nothing: its next step is refused.
//! A new orchestrator ends a rebalance of an older term in its first commit, so a
//! rebalance never outlives its runner's office and never blocks failovers for ever.

use crate::config::{ClusterConfig, Rebalance};
use crate::ids::{NodeId, Term};

/// Starts a rebalance of `steps` steps run by `runner` in `term`.
pub fn start(next: &mut ClusterConfig, runner: NodeId, term: Term, steps: u32) {
    next.rebalance = Some(Rebalance {
        runner,
        term,
        done: 0,
        steps,
    });
}

/// Whether `runner`, orchestrator in `term`, has a step of its rebalance to commit.
pub fn step_due(config: &ClusterConfig, runner: NodeId, term: Term) -> bool {
    config
        .rebalance
        .is_some_and(|r| r.runner == runner && r.term == term && r.done < r.steps)
}

/// Commits one more step in `next`: data moves (the map version goes up). The last step
/// completes the rebalance, which opens a new quota period, as in the system this comes
/// from.
pub fn step(next: &mut ClusterConfig) {
    let Some(r) = next.rebalance.as_mut() else {
        return;
    };
    r.done += 1;
    next.map_version += 1;
    if r.done >= r.steps {
        next.rebalance = None;
        next.failover_count = 0;
        next.quota_epoch += 1;
    }
}

/// Ends, in `next`, a rebalance whose runner no longer holds office: one of a term older
/// than `term`, the term of the orchestrator writing `next`. Returns whether it did.
pub fn end_if_orphaned(next: &mut ClusterConfig, term: Term) -> bool {
    if next.rebalance.is_some_and(|r| r.term != term) {
        next.rebalance = None;
        true
    } else {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    #[test]
    fn steps_move_data_and_the_last_one_completes() {
        let mut c = ClusterConfig::initial([NodeId(0), NodeId(1)], Settings::default());
        c.failover_count = 1;
        start(&mut c, NodeId(0), 2, 2);
        assert!(step_due(&c, NodeId(0), 2));
        assert!(!step_due(&c, NodeId(0), 3), "not in another term");
        assert!(!step_due(&c, NodeId(1), 2), "not by another node");
        step(&mut c);
        assert_eq!(c.map_version, 1);
        assert_eq!(c.rebalance.map(|r| r.done), Some(1));
        step(&mut c);
        assert_eq!(c.rebalance, None);
        assert_eq!((c.map_version, c.failover_count, c.quota_epoch), (2, 0, 1));
    }

    #[test]
    fn a_new_term_ends_the_old_rebalance() {
        let mut c = ClusterConfig::initial([NodeId(0), NodeId(1)], Settings::default());
        start(&mut c, NodeId(0), 2, 5);
        assert!(!end_if_orphaned(&mut c, 2));
        assert!(end_if_orphaned(&mut c, 3));
        assert_eq!(c.rebalance, None);
    }
}
