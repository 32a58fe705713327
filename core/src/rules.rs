//! The failover rules: may `target` be failed over under `config`, and the config that a
//! failover produces. Every design uses these; `fenced` applies them to the newest config
//! returned by a majority, the others to whatever config the acting node holds.

use crate::config::{ClusterConfig, FailoverRecord, Membership};
use crate::ids::{NodeId, Term};
#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a failover is not allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[non_exhaustive]
pub enum Blocked {
    /// The target is not an active member (unknown, or already failed over).
    NotActive,
    /// Auto-failover is switched off.
    Disabled,
    /// The failover count reached `max_count`; an administrator must reset it.
    QuotaExhausted,
    /// Another node runs a rebalance and `canAbortRebalance` is off.
    RebalanceRunning,
    /// The target is the last active node.
    LastActiveNode,
    /// Other active nodes are down too: auto-failover takes one node at a time, so it
    /// waits until only one is down.
    OthersDown,
}

impl fmt::Display for Blocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Blocked::NotActive => "target is not an active node",
            Blocked::Disabled => "auto-failover is disabled",
            Blocked::QuotaExhausted => "failover quota exhausted",
            Blocked::RebalanceRunning => "a rebalance is running and canAbortRebalance is off",
            Blocked::LastActiveNode => "target is the last active node",
            Blocked::OthersDown => "other nodes are down too; auto-failover takes one at a time",
        })
    }
}

/// Checks whether `target` may be failed over under `config`.
///
/// A rebalance run by the target itself died with it, so it does not block; one run by
/// another node blocks unless `canAbortRebalance` is on. Either way the failover stops the
/// rebalance in the same change (see [`apply_failover`]).
pub fn check_failover(config: &ClusterConfig, target: NodeId) -> Result<(), Blocked> {
    if !config.is_active(target) {
        return Err(Blocked::NotActive);
    }
    if !config.settings.enabled {
        return Err(Blocked::Disabled);
    }
    if config.failover_count >= config.settings.max_count {
        return Err(Blocked::QuotaExhausted);
    }
    let abortable = config.settings.can_abort_rebalance;
    if config
        .rebalance
        .is_some_and(|r| r.runner != target && !abortable)
    {
        return Err(Blocked::RebalanceRunning);
    }
    if config.active_nodes().count() <= 1 {
        return Err(Blocked::LastActiveNode);
    }
    Ok(())
}

/// Fails `target` over in `next`, a config whose revision the caller has already bumped;
/// `check_failover` must have allowed it. A running rebalance stops in the same change.
pub fn apply_failover(next: &mut ClusterConfig, target: NodeId, issuer: NodeId, term: Term) {
    debug_assert_eq!(check_failover(next, target), Ok(()));
    next.membership.insert(target, Membership::FailedOver);
    next.failover_count += 1;
    next.rebalance = None;
    if next.orchestrator == Some(target) {
        next.orchestrator = None;
    }
    next.history.push(FailoverRecord {
        node: target,
        issuer,
        term,
        revision: next.revision,
        quota_epoch: next.quota_epoch,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Rebalance, Settings};

    fn failed_over(c: &ClusterConfig, target: NodeId, issuer: NodeId, term: Term) -> ClusterConfig {
        let mut next = c.next_revision();
        apply_failover(&mut next, target, issuer, term);
        next
    }

    fn three() -> ClusterConfig {
        ClusterConfig::initial([NodeId(0), NodeId(1), NodeId(2)], Settings::default())
    }

    #[test]
    fn failover_marks_node_counts_and_records() {
        let c = three();
        let next = failed_over(&c, NodeId(1), NodeId(0), 4);
        assert!(!next.is_active(NodeId(1)));
        assert_eq!(next.failover_count, 1);
        assert_eq!(next.revision, c.revision + 1);
        assert_eq!(next.history.len(), 1);
        assert_eq!(next.history[0].node, NodeId(1));
        assert_eq!(next.history[0].term, 4);
        assert_eq!(
            check_failover(&next, NodeId(1)),
            Err(Blocked::NotActive),
            "a node is never failed over twice"
        );
    }

    #[test]
    fn quota_blocks_second_failover() {
        let c = failed_over(&three(), NodeId(1), NodeId(0), 1);
        assert_eq!(check_failover(&c, NodeId(2)), Err(Blocked::QuotaExhausted));
    }

    #[test]
    fn rebalance_blocks_unless_abortable_or_run_by_target() {
        let mut c = three();
        c.settings.can_abort_rebalance = false;
        c.rebalance = Some(Rebalance {
            runner: NodeId(0),
            term: 1,
            done: 0,
            steps: 3,
        });
        assert_eq!(
            check_failover(&c, NodeId(1)),
            Err(Blocked::RebalanceRunning)
        );
        assert_eq!(check_failover(&c, NodeId(0)), Ok(()));
        let next = failed_over(&c, NodeId(0), NodeId(1), 2);
        assert_eq!(next.rebalance, None, "the dead runner's rebalance stops");
        c.settings.can_abort_rebalance = true;
        assert_eq!(check_failover(&c, NodeId(1)), Ok(()));
        let next = failed_over(&c, NodeId(1), NodeId(0), 1);
        assert_eq!(next.rebalance, None, "the failover aborts the rebalance");
    }

    #[test]
    fn disabled_and_last_node_block() {
        let mut c = three();
        c.settings.enabled = false;
        assert_eq!(check_failover(&c, NodeId(1)), Err(Blocked::Disabled));
        let mut c = ClusterConfig::initial([NodeId(0)], Settings::default());
        c.settings.max_count = 5;
        assert_eq!(check_failover(&c, NodeId(0)), Err(Blocked::LastActiveNode));
    }
}
