//! Deterministic simulation of the real node: the node of this crate, transport, timers,
//! persistence and admin API included, runs on turmoil's simulated hosts, network, disk and
//! clock, through a fault schedule drawn from a seed; then the committed histories of all
//! hosts are checked.
//!
//! - [`schedule`]: the faults of a run, drawn from its seed.
//! - [`world`]: the hosts, the control host that sends admin requests, and the run loop.
//! - [`admin`]: the control host's HTTP client.
//! - [`history`]: the journal of every core step, and the checks of what was committed.
//!
//! A run is a pure function of its seed and options: `failover sim --seed S` replays it.

pub mod admin;
pub mod history;
pub mod schedule;
pub mod world;

use failover_core::{Event, NodeId};
pub use history::Violation;
pub use schedule::{Schedule, LIVENESS_WINDOW};
use std::fmt;
use std::time::{Duration, Instant};
pub use world::Options;

/// The liveness bound: a killed orchestrator is failed over within the timeout, three
/// heartbeats and the election's round trips (as the benchmark's target, with room for the
/// simulated latency).
pub fn liveness_bound(options: &Options) -> Duration {
    Duration::from_millis(options.timeout_ms + 3 * options.heartbeat_ms + 700)
}

/// Whether the final kill was checked, and how it went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Liveness {
    /// The killed orchestrator was failed over this long after the kill.
    FailedOver(Duration),
    /// It was not failed over within the bound although nothing forbade it, or the healed
    /// cluster had no orchestrator to kill although a majority held its disks: why.
    Missed(String),
    /// The check did not apply, and why (say, the quota was spent, or no orchestrator was
    /// found to kill).
    NotChecked(String),
}

/// What one run did.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Its schedule.
    pub schedule: Schedule,
    /// The options it ran with.
    pub options: Options,
    /// Safety violations, in the order they showed (the first one first).
    pub violations: Vec<Violation>,
    /// A node that stopped by itself, if any.
    pub error: Option<String>,
    /// Failovers committed in the run (distinct nodes).
    pub failovers: usize,
    /// The liveness check.
    pub liveness: Liveness,
    /// Core steps recorded.
    pub steps: usize,
    /// Wall time the run took.
    pub wall: Duration,
    /// What the control host did with each admin request.
    pub admin: Vec<(Duration, schedule::AdminRequest, String)>,
    /// Every core step of every host, in the simulation's order.
    pub journal: Vec<crate::seams::StepRecord>,
    /// Every start and step of every host, in the simulation's order: what
    /// `failover-model validate` replays through the model.
    pub entries: Vec<crate::seams::Entry>,
}

impl Outcome {
    /// Whether the run broke nothing (safety, liveness, no node stopped).
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
            && self.error.is_none()
            && !matches!(self.liveness, Liveness::Missed(_))
    }
}

/// Runs the schedule of `seed` with `options`.
pub fn run(seed: u64, options: &Options) -> Outcome {
    let started = Instant::now();
    let schedule = Schedule::draw(seed, options.nodes, options.duration);
    let mut world = world::World::new(seed, options);
    let error = world.run(&schedule).err();
    let entries = world.recorder.entries();
    let records: Vec<_> = history::steps(&entries).cloned().collect();
    let checks = history::Checks {
        nodes: usize::from(options.nodes),
        design: options.design,
        max_count: options.max_count,
        start_ms: world::EPOCH_MS,
    };
    let violations = checks.run(&records);
    let mut failed_over = std::collections::BTreeSet::new();
    for r in &records {
        if let Some(c) = &r.commit {
            failed_over.extend(c.config.history.iter().map(|f| f.node));
        }
    }
    let liveness = liveness(options, &world, &records);
    let admin = world.admin_log.borrow().clone();
    crate::seams::seed_randomness(None);
    Outcome {
        schedule,
        options: options.clone(),
        violations,
        error,
        failovers: failed_over.len(),
        liveness,
        steps: records.len(),
        wall: started.elapsed(),
        admin,
        journal: records,
        entries,
    }
}

/// After the calm phase, the healed cluster must have an orchestrator, and once it is
/// killed it must be failed over within the bound, unless the newest committed config
/// before the kill forbade it (no quota, switched off, a rebalance that blocks, the last
/// active node) or the nodes left that hold their disks are no majority (a node that lost
/// its disk votes for nothing until a majority readmitted it).
fn liveness(
    options: &Options,
    world: &world::World,
    records: &[crate::seams::StepRecord],
) -> Liveness {
    let majority = usize::from(options.nodes) / 2 + 1;
    // A node that lost its disk says so on every tick until it is readmitted.
    let rejoining_at = |ms: u64, n: NodeId| {
        records
            .iter()
            .rfind(|r| r.at_ms <= ms && r.node == n && r.input == failover_core::Input::Tick)
            .is_some_and(|r| {
                r.events
                    .iter()
                    .any(|e| matches!(e, Event::Rejoining { .. }))
            })
    };
    let Some((killed, at)) = world.killed else {
        let end = world::EPOCH_MS + options.duration.as_millis() as u64;
        let whole: Vec<NodeId> = (1..=options.nodes)
            .map(NodeId)
            .filter(|n| !rejoining_at(end, *n))
            .collect();
        // Only an active node may lead, and a failed-over node never comes back.
        let newest = records
            .iter()
            .filter_map(|r| r.commit.as_ref())
            .max_by_key(|c| c.config.revision);
        let can_lead = whole
            .iter()
            .any(|n| newest.is_none_or(|c| c.config.is_active(*n)));
        return if whole.len() < majority {
            Liveness::NotChecked(format!(
                "only {} of {} nodes held their disks: a majority of disks was lost, so \
                 nobody can be readmitted and nobody can win a term",
                whole.len(),
                options.nodes
            ))
        } else if !can_lead {
            Liveness::NotChecked(
                "no active node held its disk (the others were failed over): nobody may lead"
                    .into(),
            )
        } else {
            Liveness::Missed("the healed cluster had no orchestrator to kill".into())
        };
    };
    let killed = NodeId(killed);
    let kill_ms = world::EPOCH_MS + at.as_millis() as u64;
    let before: Vec<_> = records.iter().filter(|r| r.at_ms <= kill_ms).collect();
    let Some(newest) = before
        .iter()
        .filter_map(|r| r.commit.as_ref())
        .max_by_key(|c| c.config.revision)
        .map(|c| c.config.clone())
    else {
        return Liveness::NotChecked("nothing was committed before the kill".into());
    };
    if !newest.is_active(killed) {
        return Liveness::NotChecked(format!("{killed} was already failed over"));
    }
    if !newest.settings.enabled {
        return Liveness::NotChecked("auto-failover was off".into());
    }
    if newest.failover_count >= newest.settings.max_count {
        return Liveness::NotChecked("the quota was spent (the reset did not commit)".into());
    }
    if newest
        .rebalance
        .is_some_and(|r| r.runner != killed && !newest.settings.can_abort_rebalance)
    {
        return Liveness::NotChecked("a rebalance blocked failovers".into());
    }
    let whole = (1..=options.nodes)
        .map(NodeId)
        .filter(|n| *n != killed && !rejoining_at(kill_ms, *n))
        .count();
    if whole < majority {
        return Liveness::NotChecked(format!(
            "only {whole} nodes besides the killed one held their disks (a majority is {majority})"
        ));
    }
    if newest.active_nodes().count() < 2 {
        return Liveness::NotChecked(format!("{killed} was the last active node"));
    }
    let bound = liveness_bound(options);
    let deadline = kill_ms + bound.as_millis() as u64;
    let failed_over = records.iter().find(|r| {
        r.at_ms > kill_ms
            && r.commit
                .as_ref()
                .is_some_and(|c| c.config.failover_of(killed).is_some())
    });
    match failed_over {
        Some(r) if r.at_ms <= deadline => {
            Liveness::FailedOver(Duration::from_millis(r.at_ms - kill_ms))
        }
        Some(r) => Liveness::Missed(format!("failed over only after {} ms", r.at_ms - kill_ms)),
        None => Liveness::Missed("never failed over".into()),
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.schedule;
        writeln!(
            f,
            "seed {} · {} nodes · {} · {:?} simulated · {} faults · {} core steps · {:.2} s wall",
            s.seed,
            s.nodes,
            self.options.design,
            s.duration,
            s.faults(),
            self.steps,
            self.wall.as_secs_f64()
        )?;
        writeln!(f, "schedule:")?;
        for e in &s.events {
            writeln!(f, "  {:>8.3} s  {}", e.at.as_secs_f64(), e.action)?;
        }
        if !self.admin.is_empty() {
            writeln!(f, "admin requests:")?;
            for (at, request, outcome) in &self.admin {
                writeln!(f, "  {:>8.3} s  {request:?} -> {outcome}", at.as_secs_f64())?;
            }
        }
        writeln!(f, "failovers committed: {}", self.failovers)?;
        match &self.liveness {
            Liveness::FailedOver(d) => writeln!(
                f,
                "liveness: the killed orchestrator was failed over after {} ms",
                d.as_millis()
            )?,
            Liveness::Missed(why) => writeln!(
                f,
                "LIVENESS MISSED (bound {} ms after the kill): {why}",
                liveness_bound(&self.options).as_millis()
            )?,
            Liveness::NotChecked(why) => writeln!(f, "liveness not checked: {why}")?,
        }
        if let Some(e) = &self.error {
            writeln!(f, "NODE STOPPED: {e}")?;
        }
        match self.violations.first() {
            None => writeln!(f, "no violation")?,
            Some(v) => writeln!(
                f,
                "VIOLATED \"{}\" at {:.3} s (step {}): {} ({} violations in all)",
                v.property,
                v.at_ms as f64 / 1000.0,
                v.step,
                v.detail,
                self.violations.len()
            )?,
        }
        Ok(())
    }
}

/// Counts over a batch of runs.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Runs.
    pub runs: usize,
    /// Faults injected.
    pub faults: usize,
    /// Failovers committed.
    pub failovers: usize,
    /// Runs with a safety violation or a stopped node, by seed.
    pub failed: Vec<(u64, String)>,
    /// Every property violated, with the seeds that violated it.
    pub violated: std::collections::BTreeMap<&'static str, Vec<u64>>,
    /// Runs whose liveness check applied, and the slowest failover among them.
    pub liveness_checked: usize,
    /// Runs that missed the liveness bound, by seed.
    pub liveness_missed: Vec<u64>,
    /// The slowest failover of a killed orchestrator.
    pub slowest: Duration,
    /// Simulated time, in all.
    pub simulated: Duration,
    /// Wall time, in all.
    pub wall: Duration,
}

impl Summary {
    /// Adds one run.
    pub fn add(&mut self, o: &Outcome) {
        self.runs += 1;
        self.faults += o.schedule.faults();
        self.failovers += o.failovers;
        self.simulated += o.schedule.duration;
        self.wall += o.wall;
        let properties: std::collections::BTreeSet<_> =
            o.violations.iter().map(|v| v.property).collect();
        for property in properties {
            self.violated
                .entry(property)
                .or_default()
                .push(o.schedule.seed);
        }
        if let Some(v) = o.violations.first() {
            self.failed.push((o.schedule.seed, v.property.to_string()));
        } else if let Some(e) = &o.error {
            self.failed.push((o.schedule.seed, e.clone()));
        }
        match &o.liveness {
            Liveness::FailedOver(d) => {
                self.liveness_checked += 1;
                self.slowest = self.slowest.max(*d);
            }
            Liveness::Missed(_) => {
                self.liveness_checked += 1;
                self.liveness_missed.push(o.schedule.seed);
            }
            Liveness::NotChecked(_) => {}
        }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rate = self.simulated.as_secs_f64() / self.wall.as_secs_f64().max(1e-9);
        writeln!(
            f,
            "{} runs · {} faults injected · {} failovers committed · {} violations · liveness checked in {} runs, missed in {} (slowest {} ms) · {:.0} simulated s per wall s",
            self.runs,
            self.faults,
            self.failovers,
            self.failed.len(),
            self.liveness_checked,
            self.liveness_missed.len(),
            self.slowest.as_millis(),
            rate
        )?;
        for (property, seeds) in &self.violated {
            let shown: Vec<String> = seeds.iter().take(10).map(u64::to_string).collect();
            let more = if seeds.len() > 10 { " ..." } else { "" };
            writeln!(
                f,
                "  VIOLATED \"{property}\" in {} runs: seeds {}{more}",
                seeds.len(),
                shown.join(", ")
            )?;
        }
        for (seed, why) in self
            .failed
            .iter()
            .filter(|(_, why)| !self.violated.contains_key(why.as_str()))
        {
            writeln!(f, "  seed {seed}: {why}")?;
        }
        for seed in &self.liveness_missed {
            writeln!(f, "  seed {seed}: liveness missed")?;
        }
        Ok(())
    }
}

/// Runs the seeds `first..first + count` on `threads` threads, calling `done` after each
/// run (in the order they end), and sums them up.
pub fn batch(
    first: u64,
    count: u64,
    threads: usize,
    options: &Options,
    done: impl Fn(&Outcome) + Sync,
) -> Summary {
    let next = std::sync::atomic::AtomicU64::new(first);
    let summary = std::sync::Mutex::new(Summary::default());
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| loop {
                let seed = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if seed >= first + count {
                    return;
                }
                let outcome = run(seed, options);
                done(&outcome);
                summary.lock().unwrap().add(&outcome);
            });
        }
    });
    let mut summary = summary.into_inner().unwrap();
    // Runs overlap on several threads: the rate is per wall second of the whole batch.
    summary.wall = started.elapsed();
    summary.failed.sort();
    summary.liveness_missed.sort();
    for seeds in summary.violated.values_mut() {
        seeds.sort_unstable();
    }
    summary
}
