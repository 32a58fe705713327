//! Running a check and reporting it: the per-property table, counts, timing, readable
//! counterexamples with their Explorer paths, and the JSON form of the same facts.

use crate::model::FailoverModel;
use crate::setup::{Bounds, Setup};
use crate::state::{Action, State};
use crate::trace;
use serde::Serialize;
use stateright::{Checker, Expectation, Model, Path};
use std::io::Write;
use std::time::{Duration, Instant};

/// Outcome of one property.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// An always-property held in an exhaustive search.
    Holds,
    /// An always-property was violated.
    Violated,
    /// A sometimes-property was reached.
    Witnessed,
    /// A sometimes-property was never reached.
    NotFound,
    /// The search was cut short before it could tell.
    Unknown,
}

impl Status {
    /// The word the table shows.
    pub fn word(self) -> &'static str {
        match self {
            Status::Holds => "holds",
            Status::Violated => "VIOLATED",
            Status::Witnessed => "witnessed",
            Status::NotFound => "NOT FOUND",
            Status::Unknown => "unknown",
        }
    }
}

/// One step of a counterexample.
#[derive(Clone, Debug, Serialize)]
pub struct TraceStep {
    /// 1-based step number.
    pub step: usize,
    /// What happened.
    pub action: String,
    /// What it changed.
    pub changes: Vec<String>,
}

/// One property's result.
#[derive(Clone, Debug, Serialize)]
pub struct PropertyReport {
    /// The property's name.
    pub name: &'static str,
    /// `always` or `sometimes`.
    pub kind: &'static str,
    /// The outcome.
    pub status: Status,
    /// A counterexample (violations) or an example (witnesses are not traced).
    pub trace: Vec<TraceStep>,
    /// Whether the trace is the shortest one (found by breadth-first search).
    pub shortest: bool,
    /// Path of the trace in the Explorer: append to `http://HOST:PORT/`.
    pub explorer_path: Option<String>,
}

/// A whole check.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Design checked.
    pub design: String,
    /// Cluster size.
    pub nodes: u16,
    /// Timing.
    pub timing: String,
    /// Fault bounds.
    pub bounds: Bounds,
    /// The full setup (timeouts, horizon, ...).
    pub setup: Setup,
    /// Whether every reachable state within the bounds was visited.
    pub exhaustive: bool,
    /// Unique states visited.
    pub unique_states: usize,
    /// States generated, repeats included.
    pub states: usize,
    /// Deepest path explored.
    pub max_depth: usize,
    /// Wall time in seconds.
    pub elapsed_s: f64,
    /// Unique states per second.
    pub states_per_s: f64,
    /// Per property.
    pub properties: Vec<PropertyReport>,
}

impl Report {
    /// Exhaustive, every always-property holds, every sometimes-property witnessed.
    pub fn passed(&self) -> bool {
        self.exhaustive
            && self
                .properties
                .iter()
                .all(|p| matches!(p.status, Status::Holds | Status::Witnessed))
    }

    /// The status of property `name`.
    pub fn status(&self, name: &str) -> Option<Status> {
        self.properties
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.status)
    }

    /// The human-readable report.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out += &format!(
            "design {} · {} nodes · {} timing · bounds: {}\n\n",
            self.design,
            self.nodes,
            self.timing,
            describe_bounds(&self.setup)
        );
        let width = self
            .properties
            .iter()
            .map(|p| p.name.len())
            .max()
            .unwrap_or(10);
        out += &format!("{:<width$}  {:<9}  result\n", "property", "kind");
        for p in &self.properties {
            let steps = if p.status == Status::Violated {
                format!(" ({} steps)", p.trace.len())
            } else {
                String::new()
            };
            out += &format!(
                "{:<width$}  {:<9}  {}{steps}\n",
                p.name,
                p.kind,
                p.status.word()
            );
        }
        out += &format!(
            "\nunique states {} · states generated {} · max depth {} · {:.1} s · {:.0} states/s · {}\n",
            self.unique_states,
            self.states,
            self.max_depth,
            self.elapsed_s,
            self.states_per_s,
            if self.exhaustive {
                "exhaustive within the bounds"
            } else {
                "NOT exhaustive: the search was cut short"
            }
        );
        for p in self
            .properties
            .iter()
            .filter(|p| p.status == Status::Violated)
        {
            out += &format!(
                "\nCounterexample for \"{}\" ({} steps{}):\n",
                p.name,
                p.trace.len(),
                if p.shortest {
                    ", shortest"
                } else {
                    ", not minimised"
                }
            );
            for step in &p.trace {
                out += &format!("{:>3}. {}\n", step.step, step.action);
                for change in &step.changes {
                    out += &format!("       {change}\n");
                }
            }
            if let Some(path) = &p.explorer_path {
                out += &format!("   Explorer: {path}\n");
            }
        }
        out
    }
}

/// The bounds in one line.
pub fn describe_bounds(setup: &Setup) -> String {
    let b = &setup.bounds;
    let mut s = format!(
        "clean {} · unclean {} · restarts {} · pauses {} · losses {} · late heartbeats {} · partitions {} · rebalances {} · resets {} · max term {} · timeout {} ticks · max count {}",
        b.clean_shutdowns,
        b.unclean_shutdowns,
        b.restarts,
        b.pauses,
        b.losses,
        b.late_heartbeats,
        b.partitions,
        b.rebalances,
        b.quota_resets,
        setup.max_term,
        setup.timeout_ticks,
        setup.max_count
    );
    if setup.timing == crate::setup::Timing::Timed {
        s += &format!(
            " · net-tick {} · bound timeout+{} · horizon {}",
            setup.net_tick_ticks, setup.slack_ticks, setup.horizon
        );
    }
    s
}

/// How a check runs.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Checker threads.
    pub threads: usize,
    /// Print progress to stderr.
    pub progress: bool,
    /// Most states the counterexample minimiser may visit.
    pub minimise_limit: usize,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            progress: false,
            minimise_limit: 3_000_000,
        }
    }
}

/// Turns a path into numbered, readable steps.
pub fn readable(model: &FailoverModel, path: &Path<State, Action>) -> Vec<TraceStep> {
    let pairs = path.clone().into_vec();
    pairs
        .windows(2)
        .enumerate()
        .filter_map(|(i, w)| {
            let (before, action) = (&w[0].0, w[0].1.as_ref()?);
            Some(TraceStep {
                step: i + 1,
                action: action.to_string(),
                changes: trace::describe_changes(model, before, &w[1].0),
            })
        })
        .collect()
}

/// A state predicate to search for.
type Goal<'a> = Box<dyn Fn(&State) -> bool + 'a>;

/// Checks `setup` exhaustively (within its bounds) and reports.
pub fn run(setup: &Setup, options: &RunOptions) -> Report {
    let model = FailoverModel::new(setup.clone());
    let properties = model.properties();
    let started = Instant::now();
    let checker = model
        .clone()
        .checker()
        .threads(options.threads.max(1))
        .spawn_dfs();
    let mut last = Instant::now();
    while !checker.is_done() {
        std::thread::sleep(Duration::from_millis(200));
        if options.progress && last.elapsed() >= Duration::from_secs(2) {
            last = Instant::now();
            let secs = started.elapsed().as_secs_f64();
            let unique = checker.unique_state_count();
            eprintln!(
                "  {} {} nodes {}: {} unique states, {:.0}/s, depth {}, {:.0} s",
                setup.design,
                setup.nodes,
                setup.timing,
                unique,
                unique as f64 / secs,
                checker.max_depth(),
                secs
            );
            let _ = std::io::stderr().flush();
        }
    }
    let checker = checker.join();
    let elapsed = started.elapsed().as_secs_f64();
    let discoveries = checker.discoveries();
    // With the default finish condition the run stops early only if every property has a
    // discovery; anything else ends with the whole space visited.
    let exhaustive = checker.is_done() && discoveries.len() < properties.len();
    let mut reports = Vec::new();
    for property in &properties {
        let discovered = discoveries.get(property.name);
        let (kind, status) = match (&property.expectation, discovered) {
            (Expectation::Always, Some(_)) => ("always", Status::Violated),
            (Expectation::Always, None) if exhaustive => ("always", Status::Holds),
            (Expectation::Always, None) => ("always", Status::Unknown),
            (Expectation::Sometimes, Some(_)) => ("sometimes", Status::Witnessed),
            (Expectation::Sometimes, None) if exhaustive => ("sometimes", Status::NotFound),
            (_, _) => ("sometimes", Status::Unknown),
        };
        reports.push(PropertyReport {
            name: property.name,
            kind,
            status,
            trace: Vec::new(),
            shortest: false,
            explorer_path: None,
        });
    }
    // One breadth-first search finds the shortest counterexample of every violation.
    let violated: Vec<&stateright::Property<FailoverModel>> = properties
        .iter()
        .filter(|p| discoveries.contains_key(p.name) && p.expectation == Expectation::Always)
        .collect();
    let goals: Vec<Goal<'_>> = violated
        .iter()
        .map(|p| {
            let condition = p.condition;
            let model = &model;
            Box::new(move |s: &State| !condition(model, s)) as Goal<'_>
        })
        .collect();
    let goal_refs: Vec<&dyn Fn(&State) -> bool> = goals.iter().map(|g| g.as_ref()).collect();
    let shortest = trace::shortest_paths(&model, &goal_refs, options.minimise_limit);
    for (property, shortest) in violated.iter().zip(shortest) {
        let report = reports
            .iter_mut()
            .find(|r| r.name == property.name)
            .expect("every property has a report");
        report.shortest = shortest.is_some();
        let path = shortest.unwrap_or_else(|| discoveries[property.name].clone());
        report.trace = readable(&model, &path);
        report.explorer_path = Some(format!("#/steps/{}", path.encode(&model)));
    }
    let unique_states = checker.unique_state_count();
    Report {
        design: setup.design.to_string(),
        nodes: setup.nodes,
        timing: setup.timing.to_string(),
        bounds: setup.bounds,
        setup: setup.clone(),
        exhaustive,
        unique_states,
        states: checker.state_count(),
        max_depth: checker.max_depth(),
        elapsed_s: elapsed,
        states_per_s: unique_states as f64 / elapsed.max(1e-9),
        properties: reports,
    }
}
