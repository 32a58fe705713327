//! What a driver records of its node, for checking a run afterwards: each start
//! ([`StartRecord`]: how the node came up and the state it wrote first) and each core step
//! ([`StepRecord`]: the input and what came out, in the contract's order). A run's
//! [`Entry`] list is what `failover-model validate` replays through the model.

use crate::event::Event;
use crate::message::Outgoing;
use crate::node::Input;
use crate::params::Params;
use crate::ready::Commit;
use crate::state::Persistent;
use crate::NodeId;
#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

/// How a node came up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
#[non_exhaustive]
pub enum StartKind {
    /// A member of a brand-new cluster, from the first config ([`crate::Node::bootstrap`]).
    Bootstrap,
    /// From the state its disk held ([`crate::Node::restart`]).
    Disk,
    /// Blank, on a new disk identity, after its disk was lost ([`crate::Node::rejoin`]).
    Rejoin,
}

/// A node came up: how, with which parameters, and the state it holds (written durably
/// before its first step).
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[non_exhaustive]
pub struct StartRecord {
    /// The node.
    pub node: NodeId,
    /// When (ms since the Unix epoch; the simulation's clock in a simulation).
    pub at_ms: u64,
    /// How it came up.
    pub kind: StartKind,
    /// Its parameters.
    pub params: Params,
    /// The state it started from.
    pub persistent: Persistent,
}

impl StartRecord {
    /// The start of `node` at `at_ms`.
    pub fn new(at_ms: u64, kind: StartKind, params: Params, persistent: Persistent) -> Self {
        StartRecord {
            node: params.id,
            at_ms,
            kind,
            params,
            persistent,
        }
    }
}

/// One core step of a node as its driver carried it out: the input and what came out, in
/// the contract's order (persisted, then sent, then reported).
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct StepRecord {
    /// The node.
    pub node: NodeId,
    /// When (ms since the Unix epoch; the simulation's clock in a simulation).
    pub at_ms: u64,
    /// The input.
    pub input: Input,
    /// The core refused the input (nothing changed).
    pub refused: bool,
    /// The state written durably before any message left.
    pub persist: Option<Persistent>,
    /// The messages sent.
    pub sends: Vec<Outgoing>,
    /// The events reported.
    pub events: Vec<Event>,
    /// The commit reported (made or learned).
    pub commit: Option<Commit>,
}

/// One line of a node's journal.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Entry {
    /// The node came up.
    Start(StartRecord),
    /// The node took one step.
    Step(StepRecord),
}

impl Entry {
    /// The node it is about.
    pub fn node(&self) -> NodeId {
        match self {
            Entry::Start(s) => s.node,
            Entry::Step(s) => s.node,
        }
    }

    /// When it happened.
    pub fn at_ms(&self) -> u64 {
        match self {
            Entry::Start(s) => s.at_ms,
            Entry::Step(s) => s.at_ms,
        }
    }
}
