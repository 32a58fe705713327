//! # failover-core
//!
//! The orchestrator-failover protocol as a pure, deterministic state machine: no I/O, no
//! async, no clock. Time comes in as [`Input::Tick`]; everything a node must do comes out in
//! one [`Ready`]. The `failover-model` crate checks it with stateright; `failover-impl` runs
//! it over TCP. Both drive the same [`NodeState::step`].
//!
//! ## Map
//! - [`ids`]: node ids, terms, revisions, ticks.
//! - [`params`]: static parameters of a node and the [`Design`] it runs.
//! - [`config`]: the replicated cluster config (membership, quota, rebalance, history).
//! - [`detector`]: down counters, the auto-failover logic (threshold, grace, single-down).
//! - [`election`]: master choice by priority among the nodes a node sees up.
//! - [`registry`]: the singleton registry of `legacy` and `poc`, released by `nodedown`.
//! - [`quorum`]: majorities, elections and proposals of `fenced`.
//! - [`rules`]: may a node be failed over now (active, quota, rebalance), and the change.
//! - [`message`]: what nodes send each other.
//! - [`node`]: [`NodeState::step`], its inputs, its [`Ready`] and the calling contract.
//!
//! ## Path of data
//! `Tick` → [`detector`] counts → [`election`] picks the master → the orchestrator (by
//! [`registry`] or by term) asks [`rules`] → `legacy`/`poc` apply the change at once;
//! `fenced` proposes it in its term and commits it when a [`quorum`] has persisted it.
//!
//! ```
//! use failover_core::{Design, Input, NodeId, NodeState, Params, Settings};
//! let members = [NodeId(0), NodeId(1), NodeId(2)];
//! let params = Params::new(NodeId(0), members, Design::Fenced, 1).unwrap();
//! let mut node = NodeState::settled(&params, Settings::default(), NodeId(0));
//! let ready = node.step(&params, Input::Tick).unwrap();
//! // Heartbeats to both peers; nothing to persist on a quiet tick.
//! assert_eq!(ready.messages.len(), 2);
//! assert!(ready.persist.is_none());
//! ```

#![warn(missing_docs, unreachable_pub)]

pub mod config;
pub mod detector;
pub mod election;
pub mod ids;
pub mod message;
pub mod node;
pub mod params;
pub mod quorum;
pub mod registry;
pub mod rules;

pub use config::{ClusterConfig, FailoverRecord, Membership, Settings};
pub use detector::{Detector, Health};
pub use ids::{NodeId, Revision, Term, Ticks};
pub use message::{Message, Outgoing};
pub use node::{AdminCommand, Commit, Event, Input, NodeState, Persistent, Ready, Role, StepError};
pub use params::{Design, Params, ParamsError};
pub use rules::Blocked;
