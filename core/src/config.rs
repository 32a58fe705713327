//! The replicated cluster config: membership, orchestrator, failover quota, rebalance state
//! and the history of committed failovers. Every design replicates it; only `fenced` commits
//! it at a majority.

use crate::ids::{NodeId, Revision, Term, Ticks};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Whether a node still serves data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Membership {
    /// The node is part of the cluster.
    Active,
    /// The node has been failed over; it never comes back as active by itself.
    FailedOver,
}

/// Auto-failover settings, as the administrator sets them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Settings {
    /// Auto-failover on or off.
    pub enabled: bool,
    /// Auto-failover timeout, in detection ticks (`ceil(timeout / tick)`).
    pub timeout_ticks: Ticks,
    /// Failover quota: how many auto-failovers may happen before the count is reset.
    pub max_count: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            enabled: true,
            timeout_ticks: 3,
            max_count: 1,
        }
    }
}

/// One committed auto-failover.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FailoverRecord {
    /// The node that was failed over.
    pub node: NodeId,
    /// The node that decided and committed it.
    pub issuer: NodeId,
    /// The issuer's term (0 in the designs without terms).
    pub term: Term,
    /// The config revision that carries the failover.
    pub revision: Revision,
    /// Quota period the failover counts against (incremented by every count reset).
    pub quota_epoch: u32,
}

/// The cluster config. Compared by `(revision)`; `fenced` also orders by the term that
/// accepted it (see [`crate::quorum`]).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ClusterConfig {
    /// Incremented by every change.
    pub revision: Revision,
    /// Every configured node and whether it is still active.
    pub membership: BTreeMap<NodeId, Membership>,
    /// The orchestrator recorded by the last change (`fenced` only; `None` elsewhere).
    pub orchestrator: Option<NodeId>,
    /// The term of the orchestrator that wrote this revision (`fenced`), else 0.
    pub term: Term,
    /// Auto-failover settings.
    pub settings: Settings,
    /// Auto-failovers since the last reset.
    pub failover_count: u32,
    /// Number of count resets so far.
    pub quota_epoch: u32,
    /// The node running a rebalance, if one runs.
    pub rebalance: Option<NodeId>,
    /// Every committed failover, oldest first.
    pub history: Vec<FailoverRecord>,
}

impl ClusterConfig {
    /// The first config of a cluster: every member active, revision 1.
    pub fn initial(members: impl IntoIterator<Item = NodeId>, settings: Settings) -> Self {
        ClusterConfig {
            revision: 1,
            membership: members
                .into_iter()
                .map(|n| (n, Membership::Active))
                .collect(),
            orchestrator: None,
            term: 0,
            settings,
            failover_count: 0,
            quota_epoch: 0,
            rebalance: None,
            history: Vec::new(),
        }
    }

    /// Whether `node` is a member that has not been failed over.
    pub fn is_active(&self, node: NodeId) -> bool {
        self.membership.get(&node) == Some(&Membership::Active)
    }

    /// Active members, in id order.
    pub fn active_nodes(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.membership
            .iter()
            .filter(|(_, m)| **m == Membership::Active)
            .map(|(n, _)| *n)
    }

    /// The failover record of `node`, if it was failed over.
    pub fn failover_of(&self, node: NodeId) -> Option<&FailoverRecord> {
        self.history.iter().find(|r| r.node == node)
    }

    /// A copy with the revision bumped, ready for one more change.
    pub(crate) fn next_revision(&self) -> Self {
        let mut next = self.clone();
        next.revision += 1;
        next
    }
}
