//! Static parameters of one node: who it is, the cluster's members and their master
//! priorities, the design, and the master-liveness timeout. Validated once.

use crate::ids::{NodeId, Ticks};
#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// Which failover design a node runs (see `specs/protocol.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
#[non_exhaustive]
pub enum Design {
    /// Auto-failover is a singleton on the master, registered in a registry that releases a
    /// lost owner only on `nodedown`; counters start cold on every new orchestrator.
    Legacy,
    /// The origin's proof of concept: detection on every node; the new master fails over the
    /// old orchestrator; config replicated without a quorum.
    Poc,
    /// The project's design: warm detection everywhere, fencing terms won from a majority and
    /// every config change committed at a majority.
    #[default]
    Fenced,
}

impl Design {
    /// All designs, in the order reports list them.
    pub const ALL: [Design; 3] = [Design::Fenced, Design::Poc, Design::Legacy];

    /// The lowercase name used on command lines and in files.
    pub fn name(self) -> &'static str {
        match self {
            Design::Legacy => "legacy",
            Design::Poc => "poc",
            Design::Fenced => "fenced",
        }
    }
}

impl fmt::Display for Design {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Design {
    type Err = ParamsError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "legacy" => Ok(Design::Legacy),
            "poc" => Ok(Design::Poc),
            "fenced" => Ok(Design::Fenced),
            other => Err(ParamsError::UnknownDesign(other.to_string())),
        }
    }
}

/// A mistake in [`Params`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParamsError {
    /// The node is not one of the members.
    #[error("node {0} is not a member of the cluster")]
    NotAMember(NodeId),
    /// `master_ticks` must be at least 1.
    #[error("master_ticks must be at least 1")]
    ZeroMasterTicks,
    /// The design name is unknown.
    #[error("unknown design {0:?} (expected fenced, poc or legacy)")]
    UnknownDesign(String),
}

/// Static parameters of one node.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[non_exhaustive]
pub struct Params {
    /// This node.
    pub id: NodeId,
    /// Every member (this node included) with its master priority: higher wins, then the
    /// lower id.
    pub members: BTreeMap<NodeId, u32>,
    /// The design this node runs.
    pub design: Design,
    /// A peer silent for this many ticks no longer counts for master choice.
    pub master_ticks: Ticks,
    /// Missed heartbeats in a row that still count as up (see [`crate::detector`]): a
    /// driver whose nodes' tick phases drift sets 1, so a heartbeat that lands just after
    /// a tick is no flap. The tolerated ticks still count towards the failover timeout.
    #[cfg_attr(feature = "serde", serde(default))]
    pub tolerated_misses: Ticks,
}

impl Params {
    /// Parameters for `id` in a cluster of equal-priority `members`.
    pub fn new(
        id: NodeId,
        members: impl IntoIterator<Item = NodeId>,
        design: Design,
        master_ticks: Ticks,
    ) -> Result<Self, ParamsError> {
        let params = Params {
            id,
            members: members.into_iter().map(|n| (n, 0)).collect(),
            design,
            master_ticks,
            tolerated_misses: 0,
        };
        params.validate()?;
        Ok(params)
    }

    /// Checks the parameters once, before a node starts.
    pub fn validate(&self) -> Result<(), ParamsError> {
        if !self.members.contains_key(&self.id) {
            return Err(ParamsError::NotAMember(self.id));
        }
        if self.master_ticks == 0 {
            return Err(ParamsError::ZeroMasterTicks);
        }
        Ok(())
    }

    /// The same parameters with `node`'s master priority set to `priority` (higher wins,
    /// then the lower id). A node that is not a member is ignored.
    pub fn with_priority(mut self, node: NodeId, priority: u32) -> Self {
        if let Some(p) = self.members.get_mut(&node) {
            *p = priority;
        }
        self
    }

    /// The same parameters with `misses` missed heartbeats in a row tolerated.
    pub fn with_tolerated_misses(mut self, misses: Ticks) -> Self {
        self.tolerated_misses = misses;
        self
    }

    /// The other members.
    pub fn peers(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.members.keys().copied().filter(move |n| *n != self.id)
    }

    /// Whether `node` is a member.
    pub fn is_member(&self, node: NodeId) -> bool {
        self.members.contains_key(&node)
    }

    /// How many members form a majority.
    pub fn majority(&self) -> usize {
        crate::quorum::majority(self.members.len())
    }
}

/// Converts a timeout to detection ticks as the origin system does: `ceil(timeout / tick)`,
/// at least 1.
pub fn ticks_for(timeout_ms: u64, tick_ms: u64) -> Ticks {
    let tick_ms = tick_ms.max(1);
    let ticks = timeout_ms.div_ceil(tick_ms).max(1);
    Ticks::try_from(ticks).unwrap_or(Ticks::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_round_up() {
        assert_eq!(ticks_for(1000, 100), 10);
        assert_eq!(ticks_for(1001, 100), 11);
        assert_eq!(ticks_for(0, 100), 1);
    }

    #[test]
    fn validate_names_the_problem() {
        let err = Params::new(NodeId(9), [NodeId(0)], Design::Fenced, 1).unwrap_err();
        assert_eq!(err, ParamsError::NotAMember(NodeId(9)));
        assert_eq!(
            "paxos".parse::<Design>().unwrap_err().to_string(),
            "unknown design \"paxos\" (expected fenced, poc or legacy)"
        );
    }
}
