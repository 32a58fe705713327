//! # failover-core
//!
//! The orchestrator-failover protocol as a pure, deterministic state machine: no I/O, no
//! async, no clock. Time comes in as [`Input::Tick`]; everything a node must do comes out in
//! one [`Ready`]. The `failover-model` crate checks it with stateright; `failover-impl` runs
//! it over TCP. Both drive the same [`NodeState::step`].
//!
//! ## Map
//! - [`ids`]: node ids, terms, revisions, ticks, disk identities.
//! - [`params`]: static parameters of a node and the [`Design`] it runs.
//! - [`config`]: the replicated cluster config (membership, quota, settings, rebalance,
//!   history, disks of rejoined nodes).
//! - [`detector`]: down counters, the auto-failover logic (threshold, grace, single-down).
//! - [`election`]: master choice by priority among the nodes a node sees up.
//! - [`registry`]: the singleton registry of `legacy` and `poc`, released by `nodedown`.
//! - [`quorum`]: majorities, pre-votes, elections and proposals of `fenced`.
//! - [`rules`]: may a node be failed over now (active, quota, rebalance), and the change.
//! - [`rebalance`]: the rebalance as term-stamped steps, each a committed change.
//! - [`message`]: what nodes send each other.
//! - [`node`]: [`NodeState::step`], its inputs, its [`Ready`] and the calling contract;
//!   the `fenced` rules (pre-vote, check-quorum, terms, commits, rejoin) and the `legacy` /
//!   `poc` rules live in private modules beside it, and admin commands in [`admin`].
//!
//! ## Path of data
//! `Tick` → [`detector`] counts → [`election`] picks the master → the orchestrator (by
//! [`registry`] or by term) asks [`rules`] → `legacy`/`poc` apply the change at once;
//! `fenced` proposes it in its term and commits it when a [`quorum`] has persisted it.
//!
//! ## Embedding it
//! A driver owns one [`NodeState`] per node and its [`Params`], and does five things:
//! 1. **Tick**: feed [`Input::Tick`] once per heartbeat period; feed every message from a
//!    peer as [`Input::Message`], a lost connection as [`Input::NodeDown`], and operator
//!    commands as [`Input::Admin`], one input at a time.
//! 2. **Step**: [`NodeState::step`] returns a [`Ready`] (or a [`StepError`] for an input it
//!    refused, which changed nothing).
//! 3. **Persist**: take the state with [`Ready::take_persist`] and, if there is one, write
//!    it durably *before* any message of that step leaves: a vote or an acceptance must
//!    never claim more than the disk holds. [`Ready::messages`] refuses to hand the
//!    messages out while the state is still in the `Ready`.
//! 4. **Send**: then send [`Ready::messages`]; loss, delay, duplication and reordering are
//!    fine, the protocol copes.
//! 5. **Report**: [`Ready::commit`] is a config this node committed or learned to be
//!    committed; [`Ready::events`] are facts worth logging.
//!
//! After a crash, rebuild the node with [`NodeState::restart`] from the last persisted
//! state; a node that lost its disk starts with [`NodeState::rejoin`] and votes for nothing
//! until the cluster readmitted it. `examples/threads.rs` is a complete driver on plain
//! threads (no async runtime): three nodes, a crash of the orchestrator, its failover, and
//! its restart (`cargo run -p failover-core --example threads`).
//!
//! ```
//! use failover_core::{Design, Input, NodeId, NodeState, Params, Settings};
//! let members = [NodeId(0), NodeId(1), NodeId(2)];
//! let params = Params::new(NodeId(0), members, Design::Fenced, 1).unwrap();
//! let mut node = NodeState::settled(&params, Settings::default(), NodeId(0));
//! let mut ready = node.step(&params, Input::Tick).unwrap();
//! // Nothing to persist on a quiet tick, so the heartbeats to both peers may go at once.
//! assert!(ready.take_persist().is_none());
//! assert_eq!(ready.messages().unwrap().len(), 2);
//! ```

#![warn(missing_docs, unreachable_pub)]

pub mod admin;
pub mod config;
pub mod detector;
pub mod election;
mod fenced;
pub mod ids;
pub mod message;
pub mod node;
pub mod params;
pub mod quorum;
pub mod rebalance;
pub mod registry;
pub mod rules;
mod unfenced;

pub use admin::{AdminCommand, AdminRefusal};
pub use config::{ClusterConfig, FailoverRecord, Membership, Rebalance, Settings, SettingsChange};
pub use detector::{Detector, Health};
pub use ids::{Boot, NodeId, Revision, Term, Ticks};
pub use message::{Message, Office, Outgoing};
pub use node::{
    Commit, Event, Input, NodeState, Persistent, Ready, RestartError, Role, StepError, Unpersisted,
};
pub use params::{Design, Params, ParamsError};
pub use rules::Blocked;
