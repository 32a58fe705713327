//! Identifiers and counters shared by every module.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A node of the cluster. Lower ids win ties of master priority.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(transparent)]
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

/// Number of detection ticks (the unit of time inside `core`).
pub type Ticks = u32;
