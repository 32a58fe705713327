//! The replicated cluster config: membership, orchestrator, failover quota, settings,
//! the rebalance and its progress, the history of committed failovers and the disk
//! identities of nodes that rejoined. Every design replicates it; only `fenced` commits it
//! at a majority.

use crate::ids::{Boot, NodeId, Revision, Term, Ticks};
#[cfg(feature = "serde")]
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::hash_map::DefaultHasher;
use std::collections::BTreeMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

/// Whether a node still serves data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[non_exhaustive]
pub enum Membership {
    /// The node is part of the cluster.
    Active,
    /// The node has been failed over; it never comes back as active by itself.
    FailedOver,
}

impl fmt::Display for Membership {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Membership::Active => "active",
            Membership::FailedOver => "failed over",
        })
    }
}

/// Auto-failover settings, as the administrator sets them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Settings {
    /// Auto-failover on or off.
    pub enabled: bool,
    /// Auto-failover timeout, in detection ticks (`ceil(timeout / tick)`).
    pub timeout_ticks: Ticks,
    /// Failover quota: how many auto-failovers may happen before the count is reset.
    pub max_count: u32,
    /// `canAbortRebalance`: when on, a failover stops a running rebalance in the same
    /// commit; when off, a running rebalance blocks failovers until it ends.
    #[cfg_attr(feature = "serde", serde(default))]
    pub can_abort_rebalance: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            enabled: true,
            timeout_ticks: 3,
            max_count: 1,
            can_abort_rebalance: true,
        }
    }
}

/// A change of some settings; the others stay as the config has them when the change is
/// applied (so two partial changes never undo each other).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct SettingsChange {
    /// Auto-failover on or off.
    pub enabled: Option<bool>,
    /// The timeout in ticks.
    pub timeout_ticks: Option<Ticks>,
    /// The quota.
    pub max_count: Option<u32>,
    /// `canAbortRebalance`.
    pub can_abort_rebalance: Option<bool>,
}

impl SettingsChange {
    /// Whether the change changes nothing at all.
    pub fn is_empty(&self) -> bool {
        *self == SettingsChange::default()
    }

    /// The settings after the change.
    pub fn apply(&self, to: Settings) -> Settings {
        Settings {
            enabled: self.enabled.unwrap_or(to.enabled),
            timeout_ticks: self.timeout_ticks.unwrap_or(to.timeout_ticks),
            max_count: self.max_count.unwrap_or(to.max_count),
            can_abort_rebalance: self.can_abort_rebalance.unwrap_or(to.can_abort_rebalance),
        }
    }
}

/// One committed auto-failover.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
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

/// A running rebalance. It belongs to the term of the orchestrator that runs it and moves
/// data only through committed steps: each step is a config change of its own, committed
/// at a majority in that term, so an orchestrator that lost its term can move nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Rebalance {
    /// The orchestrator that runs it.
    pub runner: NodeId,
    /// The runner's term (0 in the designs without terms).
    pub term: Term,
    /// Steps committed so far.
    pub done: u32,
    /// Steps in all; the step that reaches it completes the rebalance.
    pub steps: u32,
}

/// The cluster config. `fenced` orders configs by the term that accepted them, then by
/// revision (see [`crate::quorum`]).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
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
    /// Number of count resets so far (by an administrator or a completed rebalance).
    pub quota_epoch: u32,
    /// The running rebalance, if any.
    pub rebalance: Option<Rebalance>,
    /// Version of the data map: every committed rebalance step moves data and bumps it.
    #[cfg_attr(feature = "serde", serde(default))]
    pub map_version: u32,
    /// Every committed failover, oldest first.
    pub history: Vec<FailoverRecord>,
    /// The disk of each node that rejoined after losing its own (others have boot 0).
    #[cfg_attr(feature = "serde", serde(default))]
    pub boots: BTreeMap<NodeId, Boot>,
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
            map_version: 0,
            history: Vec::new(),
            boots: BTreeMap::new(),
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

    /// The disk the cluster knows `node` by.
    pub fn boot_of(&self, node: NodeId) -> Boot {
        self.boots.get(&node).copied().unwrap_or(0)
    }

    /// A copy with the revision bumped, ready for one more change.
    pub(crate) fn next_revision(&self) -> Self {
        let mut next = self.clone();
        next.revision += 1;
        next
    }
}

/// A config as nodes hold and send it: immutable, shared by everything that holds it (a
/// node's memory, its disk image, the messages that carry it), so a copy is a pointer, and
/// hashed once, when it is made. It reads as a [`ClusterConfig`] and serialises as one.
#[derive(Clone)]
pub struct SharedConfig(Arc<(u64, ClusterConfig)>);

impl SharedConfig {
    /// Shares `config`.
    pub fn new(config: ClusterConfig) -> Self {
        let mut h = DefaultHasher::new();
        config.hash(&mut h);
        SharedConfig(Arc::new((h.finish(), config)))
    }

    /// A fingerprint of the config, fixed for a given build.
    pub fn digest(&self) -> u64 {
        self.0 .0
    }

    /// A copy to change.
    pub fn to_owned_config(&self) -> ClusterConfig {
        self.0 .1.clone()
    }
}

impl From<ClusterConfig> for SharedConfig {
    fn from(config: ClusterConfig) -> Self {
        SharedConfig::new(config)
    }
}

impl Deref for SharedConfig {
    type Target = ClusterConfig;
    fn deref(&self) -> &ClusterConfig {
        &self.0 .1
    }
}

impl PartialEq for SharedConfig {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || (self.digest() == other.digest() && **self == **other)
    }
}

impl Eq for SharedConfig {}

impl PartialOrd for SharedConfig {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SharedConfig {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (**self).cmp(&**other)
    }
}

impl Hash for SharedConfig {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.digest().hash(state);
    }
}

impl fmt::Debug for SharedConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

#[cfg(feature = "serde")]
impl Serialize for SharedConfig {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (**self).serialize(s)
    }
}

#[cfg(feature = "serde")]
impl<'de> Deserialize<'de> for SharedConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        ClusterConfig::deserialize(d).map(SharedConfig::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_config_compares_and_hashes_by_content() {
        let a = SharedConfig::new(ClusterConfig::initial([NodeId(0)], Settings::default()));
        let b = SharedConfig::new(ClusterConfig::initial([NodeId(0)], Settings::default()));
        assert_eq!(a, b);
        assert_eq!(a.digest(), b.digest());
        let mut changed = b.to_owned_config();
        changed.revision += 1;
        let c = SharedConfig::new(changed);
        assert_ne!(a, c);
        assert_ne!(a.digest(), c.digest());
        #[cfg(feature = "serde")]
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            serde_json::to_string(&*a).unwrap(),
            "serialised as the config"
        );
    }

    #[test]
    fn a_partial_change_keeps_the_rest() {
        let base = Settings::default();
        let change = SettingsChange {
            max_count: Some(3),
            ..SettingsChange::default()
        };
        let after = change.apply(base);
        assert_eq!(after.max_count, 3);
        assert_eq!(after.timeout_ticks, base.timeout_ticks);
        assert!(!change.is_empty());
        assert!(SettingsChange::default().is_empty());
    }
}
