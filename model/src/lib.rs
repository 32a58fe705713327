//! # failover-model
//!
//! A stateright model that drives `failover-core` nodes through every interleaving of
//! crashes (clean and unclean), late `nodedown`s, pauses, restarts, disk loss, message
//! loss, duplication and reordering, partitions and one-way cuts, rebalances, quota resets
//! and settings changes, and checks the properties of
//! `specs/properties.md`.
//!
//! ## Map
//! - [`setup`]: what a check explores ([`Setup`], [`Timing`], [`Bounds`]).
//! - [`cached`]: state parts shared between states until changed, hashed once per change.
//! - [`state`]: the world's state (nodes, disks, network, cut links, notices) and actions.
//! - [`model`]: the stateright [`stateright::Model`]; it feeds inputs to
//!   `Node::step` and carries out each `Ready`, persisting as a step of its own.
//! - [`observe`]: the observer's ghost facts (what is on a majority of disks, the chain of
//!   committed configs, proposals by deposed or failed-over nodes, heartbeat silence,
//!   the time bounds being watched), computed without the core's own rules.
//! - [`properties`]: the named properties.
//! - [`profile`]: named sets of runs (`ci`: every pair of fault kinds; `deep`).
//! - [`trace`]: readable steps and the shortest path to a violation.
//! - [`engine`]: the exhaustive search (depth- or breadth-first, several threads).
//! - [`reduction`]: which steps commute, for the search's sleep sets.
//! - [`check`]: running a check and its report (table, traces, JSON).
//! - [`walk`]: seeded random walks where an exhaustive search does not fit.
//!
//! The binary `failover-model` wraps these in `check`, `explore` and `simulate` commands.

#![warn(missing_docs)]

pub mod cached;
pub mod check;
pub mod engine;
pub mod model;
pub mod observe;
pub mod profile;
pub mod properties;
pub mod reduction;
pub mod setup;
pub mod state;
pub mod trace;
pub mod validate;
pub mod walk;

pub use check::{run, Report, RunOptions, Search, Status, StopAt};
pub use model::FailoverModel;
pub use setup::{Bounds, Heartbeats, NetworkMode, Nodedowns, Setup, Start, Timing};
