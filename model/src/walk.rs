//! Seeded random walks: what `simulate` and the walked runs of a profile do where an
//! exhaustive search does not fit. Not exhaustive; the seed repeats a walk exactly.

use crate::check::{readable, TraceStep};
use crate::model::FailoverModel;
use crate::setup::Setup;
use serde::Serialize;
use stateright::{Checker, Expectation, Model, UniformChooser};
use std::time::Instant;

/// What one property showed on the walks.
#[derive(Clone, Debug, Serialize)]
pub struct WalkProperty {
    /// The property's name.
    pub name: &'static str,
    /// `always` or `sometimes`.
    pub kind: &'static str,
    /// `VIOLATED`, `no violation seen`, `witnessed` or `not seen`.
    pub result: &'static str,
    /// The walk that violated it.
    pub trace: Vec<TraceStep>,
}

/// The result of walking one setup.
#[derive(Clone, Debug, Serialize)]
pub struct WalkReport {
    /// The seed (repeat with `simulate --seed`).
    pub seed: u64,
    /// States generated.
    pub states: usize,
    /// Deepest walk.
    pub max_depth: usize,
    /// Wall time in seconds.
    pub elapsed_s: f64,
    /// States generated per second.
    pub states_per_s: f64,
    /// Per property.
    pub properties: Vec<WalkProperty>,
}

impl WalkReport {
    /// Whether some always-property was violated.
    pub fn violated(&self) -> bool {
        self.properties.iter().any(|p| p.result == "VIOLATED")
    }
}

/// Walks `setup` from `seed` until `states` states were generated, each walk at most
/// `depth` steps long.
pub fn walk(setup: &Setup, seed: u64, states: usize, depth: usize) -> WalkReport {
    let model = FailoverModel::new(setup.clone());
    let started = Instant::now();
    let checker = model
        .clone()
        .checker()
        .target_state_count(states)
        .target_max_depth(depth)
        .spawn_simulation(seed, UniformChooser)
        .join();
    let elapsed_s = started.elapsed().as_secs_f64();
    let discoveries = checker.discoveries();
    let properties = model
        .properties()
        .into_iter()
        .map(|property| {
            let found = discoveries.get(property.name);
            let always = property.expectation == Expectation::Always;
            let result = match (always, found) {
                (true, Some(_)) => "VIOLATED",
                (true, None) => "no violation seen",
                (false, Some(_)) => "witnessed",
                (false, None) => "not seen",
            };
            let trace = match (always, found) {
                (true, Some(path)) => readable(path),
                _ => Vec::new(),
            };
            WalkProperty {
                name: property.name,
                kind: if always { "always" } else { "sometimes" },
                result,
                trace,
            }
        })
        .collect();
    WalkReport {
        seed,
        states: checker.state_count(),
        max_depth: checker.max_depth(),
        elapsed_s,
        states_per_s: checker.state_count() as f64 / elapsed_s.max(1e-9),
        properties,
    }
}
