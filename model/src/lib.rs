//! # failover-model
//!
//! A stateright model that drives `failover-core` nodes through every interleaving of
//! crashes (clean and unclean), late `nodedown`s, pauses, restarts, message loss and
//! reordering, partitions, rebalances and quota resets, and checks the properties of
//! `specs/properties.md`.
//!
//! ## Map
//! - [`setup`]: what a check explores ([`Setup`], [`Timing`], [`Bounds`]).
//! - [`state`]: the world's state (nodes, disks, network, notices, ghost facts) and actions.
//! - [`model`]: the stateright [`stateright::Model`]; it feeds inputs to
//!   `NodeState::step` and carries out each `Ready`, persisting as a step of its own.
//! - [`properties`]: the named properties.
//! - [`trace`]: readable steps and the shortest path to a violation.
//! - [`check`]: running a check and its report (table, traces, JSON).
//!
//! The binary `failover-model` wraps these in `check` and `explore` commands.

#![warn(missing_docs)]

pub mod check;
pub mod model;
pub mod properties;
pub mod setup;
pub mod state;
pub mod trace;

pub use check::{run, Report, RunOptions, Status};
pub use model::FailoverModel;
pub use setup::{Bounds, Setup, Timing};
