//! # failover-tests
//!
//! Tests across the crates of the workspace, with one harness:
//! - [`cluster`]: a local cluster of real `failover` processes on loopback TCP (built from
//!   this workspace on first use), the faults to inject, and the waits and checks the
//!   multi-process tests share;
//! - [`batch`]: the real node (`failover-impl`) in its deterministic simulation over a range
//!   of seeds, saying which seeds broke what, so that every failure names the seed that
//!   replays it (`failover sim --seed S --nodes N --design D`).
//!
//! The tests:
//! - `simulation.rs`: fenced holds over hundreds of seeds at 3 and 5 nodes; poc and legacy
//!   are caught; a seed replays exactly; the history checks catch tampered records.
//! - `validation.rs`: recorded simulated runs replayed through the model
//!   (`failover-model validate`); tampered journals rejected.
//! - `recorded.rs`: a real run replays through the core step by step, and its journals
//!   (with a pause, a kill and a restart) are a behaviour of the model.
//! - `failover.rs`, `operator.rs`, `hostile.rs`, `bad_input.rs`, `cli.rs`: real clusters
//!   failing over, as an operator sees them, under attack, fed bad input, and the CLI.
//!
//! `FAILOVER_SIM_SEEDS=N` runs N seeds per simulation batch instead of the default.

pub mod cluster;

use failover_core::Design;
use failover_impl::sim::{self, Options, Summary};

/// Seeds per batch: `FAILOVER_SIM_SEEDS`, or `default`.
pub fn seeds(default: u64) -> u64 {
    std::env::var("FAILOVER_SIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Runs seeds `1..=count` of `design` on `nodes` nodes (60 simulated seconds each, two
/// threads) and prints the summary, seeds included.
pub fn batch(design: Design, nodes: u16, count: u64) -> Summary {
    let options = Options {
        nodes,
        design,
        ..Options::default()
    };
    let summary = sim::batch(1, count, 2, &options, |_| {});
    println!("{design} · {nodes} nodes · seeds 1..={count}\n{summary}");
    summary
}
