//! Identifiers and counters shared by every module.

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};
use std::fmt;

/// A node of the cluster. Lower ids win ties of master priority.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct NodeId(pub u16);

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n{}", self.0)
    }
}

/// A fencing term (fenced design). Each term has at most one winner; 0 means "none".
pub type Term = u32;

/// Revision of the cluster config; every change increments it.
pub type Revision = u32;

/// Number of ticks, heartbeat periods (the unit of time inside `core`).
pub type Ticks = u32;

/// Identity of one life of a node's disk: 0 for the disk a node was created with, a fresh
/// value (chosen by the driver, unique per loss) for a node that lost its disk and rejoins.
/// Votes and acceptances carry it, so that a promise made by a lost disk is never counted
/// once the cluster knows the node's new disk.
pub type Boot = u64;
