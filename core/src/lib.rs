//! # failover-core
//!
//! The orchestrator-failover protocol as a pure, deterministic state machine: no I/O, no
//! async, no clock. Time comes in as [`Node::tick`], once per heartbeat period; everything
//! a node must do comes out in one [`Ready`]. The `failover-model` crate checks it with
//! stateright; `failover-impl` runs it over TCP. Both drive the same [`Node`].
//!
//! ## Map
//! - [`node`]: [`Node`], the type a driver owns: its constructors, its inputs (verbs, or
//!   [`Input`] as data), their errors, and the calling contract.
//! - [`ready`]: what one step asks of the driver ([`Ready`]) and the [`Commit`] it reports.
//! - [`event`]: facts worth logging ([`Event`]).
//! - [`journal`]: what a driver records of each start and step, for checking a run
//!   afterwards against the model.
//! - [`state`]: what a node knows ([`NodeState`], [`Persistent`], [`Role`]) and the step
//!   that changes it; the `fenced` rules (pre-vote, check-quorum, terms, commits, rejoin)
//!   and the `legacy` / `poc` rules live in private modules beside it, admin commands in
//!   [`admin`].
//! - [`ids`]: node ids, terms, revisions, ticks, disk identities.
//! - [`params`]: static parameters of a node and the [`Design`] it runs.
//! - [`config`]: the replicated cluster config (membership, quota, settings, rebalance,
//!   history, disks of rejoined nodes).
//! - [`detector`]: down counters, the auto-failover logic (threshold, grace, tolerated
//!   misses, single-down).
//! - [`election`]: master choice by priority among the nodes a node sees up.
//! - [`registry`]: the singleton registry of `legacy` and `poc`, released by `nodedown`.
//! - [`quorum`]: majorities, pre-votes, elections and proposals of `fenced`.
//! - [`rules`]: may a node be failed over now (active, quota, rebalance), and the change.
//! - [`rebalance`]: the rebalance as term-stamped steps, each a committed change.
//! - [`message`]: what nodes send each other.
//!
//! ## Path of data
//! Tick → [`detector`] counts → [`election`] picks the master → the orchestrator (by
//! [`registry`] or by term) asks [`rules`] → `legacy`/`poc` apply the change at once;
//! `fenced` proposes it in its term and commits it when a [`quorum`] has persisted it.
//!
//! ## Embedding it
//! A driver owns one [`Node`] per process and does five things, in this order, for every
//! input:
//! 1. **Tick**: call [`Node::tick`] once per heartbeat period; hand over every message from
//!    a peer with [`Node::receive`], a lost connection with [`Node::node_down`], and
//!    operator commands with [`Node::admin`], one input at a time.
//! 2. **Step**: each returns a [`Ready`], or an error of its own ([`UnknownPeer`],
//!    [`AdminRefusal`]) for an input it refused, which changed nothing.
//! 3. **Persist**: take the state with [`Ready::take_persist`] and, if there is one, write
//!    it durably *before* any message of that step leaves: a vote or an acceptance must
//!    never claim more than the disk holds. [`Ready::messages`] refuses to hand the
//!    messages out while the state is still in the `Ready`.
//! 4. **Send**: then send [`Ready::messages`]; loss, delay, duplication and reordering are
//!    fine, the protocol copes.
//! 5. **Report**: [`Ready::commit`] is a config this node committed or learned to be
//!    committed (only committed configs count: [`Node::config`] may be a proposal);
//!    [`Ready::events`] are facts worth logging.
//!
//! ```
//! use failover_core::{Design, Message, Node, NodeId, Params, Settings};
//! let members = [NodeId(0), NodeId(1), NodeId(2)];
//! let params = Params::new(NodeId(1), members, Design::Fenced, 1)?;
//! // A member of a new cluster (its first state goes to disk before it starts).
//! let mut node = Node::bootstrap(params, Settings::default());
//!
//! // A tick: nothing to persist, so the heartbeats to both peers may go at once.
//! let mut ready = node.tick();
//! assert!(ready.take_persist().is_none());
//! assert_eq!(ready.messages()?.len(), 2);
//!
//! // A vote is a promise: it leaves only once the promise is on disk.
//! let mut ready = node.receive(NodeId(2), Message::RequestVote { term: 5 })?;
//! assert!(ready.messages().is_err(), "not before the state is taken out");
//! let state = ready.take_persist().expect("the vote changed the state");
//! assert_eq!(state.promised(), 5);
//! // ... write `state` durably here, then:
//! let sent = ready.messages()?;
//! assert!(matches!(sent[0].msg, Message::Vote { term: 5, .. }));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! After a crash, rebuild the node with [`Node::restart`] from the last state it persisted;
//! a node that lost its disk starts with [`Node::rejoin`] and votes for nothing until the
//! cluster readmitted it:
//!
//! ```
//! use failover_core::{Design, Node, NodeId, Params, RestartError, Settings};
//! let params = Params::new(NodeId(0), [NodeId(0), NodeId(1), NodeId(2)], Design::Fenced, 1)?;
//! let node = Node::settled(params.clone(), Settings::default(), NodeId(0));
//! let disk = node.persistent().clone();
//! let restarted = Node::restart(params, disk.clone())?;
//! assert_eq!(restarted.config(), node.config());
//! assert!(!restarted.is_orchestrator(), "office is not kept across a restart");
//!
//! // Another cluster's disk is refused.
//! let other = Params::new(NodeId(0), [NodeId(0), NodeId(7)], Design::Fenced, 1)?;
//! assert!(matches!(Node::restart(other, disk), Err(RestartError::OtherMembers { .. })));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! `examples/threads.rs` is a complete driver on plain threads (no async runtime): three
//! nodes, a crash of the orchestrator, its failover, and its restart (`cargo run -p
//! failover-core --example threads`).
//!
//! ## Features
//! - `serde` (default): `Serialize`/`Deserialize` for the state, messages, inputs and
//!   outputs, so a driver can persist, send and log them as they are.

#![warn(missing_docs, unreachable_pub)]

pub mod admin;
pub mod config;
pub mod detector;
pub mod election;
pub mod event;
mod fenced;
pub mod ids;
pub mod journal;
pub mod message;
pub mod node;
pub mod params;
pub mod quorum;
pub mod ready;
pub mod rebalance;
pub mod registry;
pub mod rules;
pub mod state;
mod unfenced;

pub use admin::{AdminCommand, AdminRefusal};
pub use config::{ClusterConfig, FailoverRecord, Membership, Rebalance, Settings, SettingsChange};
pub use detector::{Detector, Health};
pub use event::Event;
pub use ids::{Boot, NodeId, Revision, Term, Ticks};
pub use journal::{Entry, StartKind, StartRecord, StepRecord};
pub use message::{Message, MessageKind, Office, Outgoing};
pub use node::{Input, Node, RestartError, StepError, UnknownPeer};
pub use params::{Design, Params, ParamsError};
pub use ready::{Commit, Ready, Unpersisted};
pub use rules::Blocked;
pub use state::{NodeState, Persistent, Role};
