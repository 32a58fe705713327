//! The singleton registry of `legacy` and `poc`: who holds the orchestrator's singletons.
//!
//! Each node keeps its own view, synchronised through heartbeats that say whether their
//! sender holds the singletons. A live owner releases by saying so; the entry of an owner
//! that vanished is dropped only when `nodedown` for it arrives. After an unclean loss that
//! is the net-tick timeout later: the delay this project exists to remove.

use crate::ids::NodeId;
#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

/// One node's view of the registry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Registry {
    owner: Option<NodeId>,
}

impl Registry {
    /// The registered owner, if any.
    pub fn owner(&self) -> Option<NodeId> {
        self.owner
    }

    /// A view that names `owner`.
    pub fn held_by(owner: NodeId) -> Self {
        Registry { owner: Some(owner) }
    }

    /// Registers `node` if nobody holds the entry. Returns whether it did.
    pub fn register(&mut self, node: NodeId) -> bool {
        if self.owner.is_none() {
            self.owner = Some(node);
            true
        } else {
            false
        }
    }

    /// Releases the entry if `node` holds it. Returns whether it did.
    pub fn release(&mut self, node: NodeId) -> bool {
        if self.owner == Some(node) {
            self.owner = None;
            true
        } else {
            false
        }
    }

    /// Applies a heartbeat from `from` that claims (or not) the singletons. A clash between
    /// two claimants is resolved for the one that `outranks` says wins, as the registry's
    /// name-clash resolution does. Returns whether the owner changed.
    pub fn on_heartbeat(
        &mut self,
        from: NodeId,
        claims: bool,
        outranks: impl Fn(NodeId, NodeId) -> bool,
    ) -> bool {
        match (self.owner, claims) {
            (None, true) => {
                self.owner = Some(from);
                true
            }
            (Some(owner), true) if owner != from && outranks(from, owner) => {
                self.owner = Some(from);
                true
            }
            (Some(owner), false) if owner == from => {
                self.owner = None;
                true
            }
            _ => false,
        }
    }

    /// `nodedown` for `peer`: drops its registration. Returns whether it did.
    pub fn on_nodedown(&mut self, peer: NodeId) -> bool {
        self.release(peer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lost_owner_is_released_only_by_nodedown() {
        let mut r = Registry::held_by(NodeId(0));
        assert!(!r.register(NodeId(1)), "entry still held");
        assert!(r.on_nodedown(NodeId(0)));
        assert!(r.register(NodeId(1)));
        assert_eq!(r.owner(), Some(NodeId(1)));
    }

    #[test]
    fn clash_resolved_by_priority_and_release_by_heartbeat() {
        let lower_id_wins = |a: NodeId, b: NodeId| a < b;
        let mut r = Registry::held_by(NodeId(2));
        assert!(!r.on_heartbeat(NodeId(3), true, lower_id_wins));
        assert!(r.on_heartbeat(NodeId(1), true, lower_id_wins));
        assert!(r.on_heartbeat(NodeId(1), false, lower_id_wins));
        assert_eq!(r.owner(), None);
    }
}
