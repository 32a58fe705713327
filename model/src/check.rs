//! Running a check and reporting it: the per-property table, counts, timing, readable
//! counterexamples with their Explorer paths, and the JSON form of the same facts.

use crate::engine;
use crate::model::FailoverModel;
use crate::properties::{PROBES, TIME_BOUNDS, WATCH_CUT};
use crate::setup::{Bounds, Setup};
use crate::state::{Action, State};
use crate::trace;
use serde::Serialize;
use stateright::{Expectation, Model, Path};
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
    /// Whether every reachable state within the bounds was visited (the search ended by
    /// itself, and never at the depth bound).
    pub exhaustive: bool,
    /// Whether some state at the term or revision bound was checked but not expanded.
    pub cut_at_bound: bool,
    /// Whether the search reached the depth bound (then it is not exhaustive).
    pub depth_bound_reached: bool,
    /// Peak resident memory during this run, in MiB (Linux: the process's peak, reset at
    /// the start of the run; 0 elsewhere).
    pub peak_rss_mib: u64,
    /// Whether the run was stopped at its memory bound (then it is not exhaustive).
    pub memory_bound_reached: bool,
    /// Whether the run was stopped at its time bound (then it is not exhaustive).
    #[serde(default)]
    pub time_bound_reached: bool,
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

    /// A one-line verdict on how far the search went.
    pub fn extent(&self) -> &'static str {
        if self.memory_bound_reached {
            return "NOT exhaustive: memory bound";
        }
        if self.time_bound_reached {
            return "NOT exhaustive: time bound";
        }
        match (self.exhaustive, self.depth_bound_reached, self.cut_at_bound) {
            (true, _, false) => "exhaustive within the bounds",
            (true, _, true) => {
                "exhaustive within the bounds (some states at the term or revision bound were checked, not expanded)"
            }
            (false, true, _) => "NOT exhaustive: cut at the depth bound",
            (false, false, _) => "NOT exhaustive: the search was cut short",
        }
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
            "\nunique states {} · states generated {} · max depth {} · {:.1} s · {:.0} states/s · peak memory {} MiB\n{}\n",
            self.unique_states,
            self.states,
            self.max_depth,
            self.elapsed_s,
            self.states_per_s,
            self.peak_rss_mib,
            self.extent()
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
            if p.name == crate::properties::NODEDOWNS_INERT {
                out +=
                    "   At the last state a node would change on a nodedown: this core reacts to \
                        nodedowns, so --nodedowns inert does not apply. Check with --nodedowns \
                        queued.\n";
            }
        }
        out
    }
}

/// The bounds in one line.
pub fn describe_bounds(setup: &Setup) -> String {
    let b = &setup.bounds;
    let mut s = format!(
        "start {} · network {} (links hold {}) · nodedowns {} · clean {} · unclean {} · restarts {} · disk losses {} · pauses {} · losses {} · duplicates {} · link drops {} · late heartbeats {} · partitions {} · one-way cuts {} · rebalances {} ({} steps, canAbortRebalance {}) · resets {} · settings changes {} · max term {} · max revision {} · max depth {} · timeout {} ticks · master {} ticks · tolerated misses {} · max count {}",
        setup.start,
        setup.network,
        setup.link_capacity,
        setup.nodedowns,
        b.clean_shutdowns,
        b.unclean_shutdowns,
        b.restarts,
        b.disk_losses,
        b.pauses,
        b.losses,
        b.duplicates,
        b.link_drops,
        b.late_heartbeats,
        b.partitions,
        b.one_way_cuts,
        b.rebalances,
        setup.rebalance_steps,
        if setup.can_abort_rebalance { "on" } else { "off" },
        b.quota_resets,
        b.settings_changes,
        setup.max_term,
        setup.max_revision,
        setup.max_depth,
        setup.timeout_ticks,
        setup.master_ticks,
        setup.tolerated_misses,
        setup.max_count
    );
    if setup.heartbeats == crate::setup::Heartbeats::Messages {
        s += " · heartbeats as messages";
    }
    if setup.timing == crate::setup::Timing::Timed {
        s += &format!(
            " · net-tick {} · bound timeout+{} · horizon {} · {}",
            setup.net_tick_ticks,
            setup.slack_ticks,
            setup.horizon,
            if setup.faults_in_flight {
                "faults fall between deliveries"
            } else {
                "each tick delivered at once"
            }
        );
    }
    s
}

/// The order in which states are visited.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Search {
    /// Depth first: little memory.
    Dfs,
    /// Breadth first: short violations first, more memory.
    Bfs,
}

/// When a check may stop before the whole space is visited.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StopAt {
    /// Never: visit everything within the bounds.
    Never,
    /// At the first violation of any always-property.
    AnyViolation,
    /// At the first violation of the always-property of this name.
    Violation(String),
}

/// How a check runs.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Checker threads.
    pub threads: usize,
    /// Print progress to stderr.
    pub progress: bool,
    /// Most states the counterexample minimiser may visit, at least: it may always visit as
    /// many as the check did, since a breadth-first search of the space the check visited
    /// reaches every violation the check found.
    pub minimise_limit: usize,
    /// Visiting order.
    pub search: Search,
    /// When to stop early (a bug hunt rather than a proof).
    pub stop_at: StopAt,
    /// Resident memory, in MiB, past which the run stops (not exhaustive) instead of
    /// growing until the machine kills it.
    pub max_memory_mib: Option<u64>,
    /// Wall time past which the run stops (not exhaustive).
    pub max_time: Option<Duration>,
    /// Skip steps that commute with a sibling already taken (sleep sets), where the model
    /// allows it: the same states, fewer successors, more memory per state.
    pub sleep_sets: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            progress: false,
            minimise_limit: 1_000_000,
            search: Search::Dfs,
            stop_at: StopAt::Never,
            max_memory_mib: None,
            max_time: None,
            sleep_sets: false,
        }
    }
}

/// Turns a path into numbered, readable steps.
pub fn readable(path: &Path<State, Action>) -> Vec<TraceStep> {
    let pairs = path.clone().into_vec();
    pairs
        .windows(2)
        .enumerate()
        .filter_map(|(i, w)| {
            let (before, action) = (&w[0].0, w[0].1.as_ref()?);
            Some(TraceStep {
                step: i + 1,
                action: action.to_string(),
                changes: trace::describe_changes(before, &w[1].0),
            })
        })
        .collect()
}

/// A state predicate to search for.
type Goal<'a> = Box<dyn Fn(&State) -> bool + 'a>;

/// A memory figure of this process from `/proc/self/status`, in MiB (0 where unavailable).
fn status_mib(field: &str) -> u64 {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return 0;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kib| kib / 1024)
}

/// Peak resident memory of this process since the last [`reset_peak_rss`], in MiB.
pub fn peak_rss_mib() -> u64 {
    status_mib("VmHWM:")
}

/// Resident memory of this process now, in MiB.
pub fn rss_mib() -> u64 {
    status_mib("VmRSS:")
}

/// Starts a new peak: Linux resets the process's peak resident memory to its current
/// one, so that each of several runs in one process reports its own peak.
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Checks `setup` exhaustively (within its bounds) and reports.
pub fn run(setup: &Setup, options: &RunOptions) -> Report {
    let model = &FailoverModel::new(setup.clone());
    let properties = model.properties();
    let stop_when_any = properties
        .iter()
        .enumerate()
        .filter(|(_, p)| match &options.stop_at {
            StopAt::Never => false,
            StopAt::AnyViolation => p.expectation == Expectation::Always,
            StopAt::Violation(name) => p.name == name,
        })
        .map(|(i, _)| i)
        .collect();
    reset_peak_rss();
    let started = Instant::now();
    let mut last = Instant::now();
    let mut memory_bound_reached = false;
    let mut time_bound_reached = false;
    let mut keep_going = |progress: &engine::Progress| {
        if options.progress && last.elapsed() >= Duration::from_secs(2) {
            last = Instant::now();
            let secs = started.elapsed().as_secs_f64();
            eprintln!(
                "  {} {} nodes {}: {} unique states, {:.0}/s, depth {}, {:.0} s, {} MiB",
                setup.design,
                setup.nodes,
                setup.timing,
                progress.unique,
                progress.unique as f64 / secs,
                progress.max_depth,
                secs,
                peak_rss_mib()
            );
            let _ = std::io::stderr().flush();
        }
        if let Some(max) = options.max_time {
            if started.elapsed() > max {
                time_bound_reached = true;
                if options.progress {
                    eprintln!("  time bound of {max:?} reached: stopping (not exhaustive)");
                }
                return false;
            }
        }
        if let Some(max) = options.max_memory_mib {
            if rss_mib() > max {
                memory_bound_reached = true;
                if options.progress {
                    eprintln!("  memory bound of {max} MiB reached: stopping (not exhaustive)");
                }
                return false;
            }
        }
        true
    };
    let outcome = engine::search(
        model,
        engine::Request {
            order: match options.search {
                Search::Dfs => engine::Order::DepthFirst,
                Search::Bfs => engine::Order::BreadthFirst,
            },
            threads: options.threads,
            max_depth: setup.max_depth,
            stop_when_any,
            keep_going: &mut keep_going,
            sleep_sets: options.sleep_sets,
        },
    );
    let elapsed = started.elapsed().as_secs_f64();
    let discoveries: std::collections::HashMap<&'static str, Path<State, Action>> = properties
        .iter()
        .zip(outcome.discoveries)
        .filter_map(|(p, path)| Some((p.name, path?)))
        .collect();
    let depth_bound_reached = outcome.progress.max_depth >= setup.max_depth;
    // The search stops before the whole space is visited only when asked to (a bound, a
    // bug hunt at its violation) or when every property has a discovery.
    let exhaustive =
        outcome.finished && !memory_bound_reached && !time_bound_reached && !depth_bound_reached;
    let watch_cut = discoveries.contains_key(WATCH_CUT);
    let mut reports = Vec::new();
    for property in properties.iter().filter(|p| !PROBES.contains(&p.name)) {
        let discovered = discoveries.get(property.name);
        let cut_short = watch_cut && TIME_BOUNDS.contains(&property.name);
        let (kind, status) = match (&property.expectation, discovered) {
            (Expectation::Always, Some(_)) => ("always", Status::Violated),
            (Expectation::Always, None) if exhaustive && !cut_short => ("always", Status::Holds),
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
            Box::new(move |s: &State| !condition(model, s)) as Goal<'_>
        })
        .collect();
    let goal_refs: Vec<&dyn Fn(&State) -> bool> = goals.iter().map(|g| g.as_ref()).collect();
    // A run stopped at its memory or time bound does not search again to minimise: the
    // counterexamples it found are reported as found. The minimiser keeps to the same
    // bounds, so a violation found near one is not searched for again past it.
    let shortest = if memory_bound_reached || time_bound_reached || goal_refs.is_empty() {
        vec![None; goal_refs.len()]
    } else {
        let limit = options.minimise_limit.max(outcome.progress.unique);
        if options.progress {
            eprintln!(
                "  {} violated after {:.0} s: searching breadth-first for the shortest counterexample (up to {limit} states)",
                violated.iter().map(|p| p.name).collect::<Vec<_>>().join(", "),
                started.elapsed().as_secs_f64(),
            );
        }
        let within_bounds = || {
            options.max_memory_mib.is_none_or(|max| rss_mib() <= max)
                && options.max_time.is_none_or(|max| started.elapsed() <= max)
        };
        trace::shortest_paths_within(model, &goal_refs, limit, &within_bounds)
    };
    for (property, shortest) in violated.iter().zip(shortest) {
        let report = reports
            .iter_mut()
            .find(|r| r.name == property.name)
            .expect("every property has a report");
        report.shortest = shortest.is_some();
        let path = shortest.unwrap_or_else(|| discoveries[property.name].clone());
        report.trace = readable(&path);
        report.explorer_path = Some(format!("#/steps/{}", path.encode(model)));
    }
    let unique_states = outcome.progress.unique;
    Report {
        design: setup.design.to_string(),
        nodes: setup.nodes,
        timing: setup.timing.to_string(),
        bounds: setup.bounds,
        setup: setup.clone(),
        exhaustive,
        cut_at_bound: discoveries.contains_key(crate::properties::CUT_AT_BOUND),
        depth_bound_reached,
        peak_rss_mib: peak_rss_mib(),
        memory_bound_reached,
        time_bound_reached,
        unique_states,
        states: outcome.progress.generated,
        max_depth: outcome.progress.max_depth,
        elapsed_s: elapsed,
        states_per_s: unique_states as f64 / elapsed.max(1e-9),
        properties: reports,
    }
}
