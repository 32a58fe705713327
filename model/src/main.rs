//! `failover-model`: check the designs, explore counterexamples, simulate larger clusters.

use clap::{Args, Parser, Subcommand, ValueEnum};
use failover_core::Design;
use failover_model::check::{self, Report, RunOptions, Search, Status, StopAt};
use failover_model::profile::{self, Profile};
use failover_model::walk;
use failover_model::{FailoverModel, Heartbeats, NetworkMode, Nodedowns, Setup, Start, Timing};
use stateright::Model;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "failover-model",
    version,
    about = "Model checker of orchestrator failover: fenced, poc and legacy designs"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Check a design exhaustively within bounds (default: fenced, 3 nodes, async).
    Check(CheckArgs),
    /// Serve the stateright Explorer for a design, with links to its counterexamples.
    Explore(ExploreArgs),
    /// Random walks through a larger cluster (not exhaustive).
    Simulate(SimulateArgs),
    /// Whether a recorded run of the real nodes is a behaviour of the model: replays the
    /// journal(s) at PATH (`failover sim --journal`, `failover node --journal`) through
    /// it and says so, or names the first step it does not allow, and why.
    Validate(ValidateArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum DesignArg {
    Fenced,
    Poc,
    Legacy,
}

impl From<DesignArg> for Design {
    fn from(d: DesignArg) -> Self {
        match d {
            DesignArg::Fenced => Design::Fenced,
            DesignArg::Poc => Design::Poc,
            DesignArg::Legacy => Design::Legacy,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum TimingArg {
    Async,
    Timed,
}

impl From<TimingArg> for Timing {
    fn from(t: TimingArg) -> Self {
        match t {
            TimingArg::Async => Timing::Async,
            TimingArg::Timed => Timing::Timed,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum StartArg {
    /// Term 1, n0 orchestrator, every node up to date.
    Settled,
    /// Empty disks: the nodes elect the first orchestrator.
    Fresh,
}

impl From<StartArg> for Start {
    fn from(s: StartArg) -> Self {
        match s {
            StartArg::Settled => Start::Settled,
            StartArg::Fresh => Start::Fresh,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum NetworkArg {
    /// FIFO per link; a copy of a message already queued is merged into it.
    Fifo,
    /// Any message in flight may arrive next (reordering across a reconnect).
    Unordered,
    /// As the transport's outbox: FIFO per link, every copy queued.
    Outbox,
}

#[derive(Clone, Copy, ValueEnum)]
enum HeartbeatsArg {
    /// A tick reads the current heartbeat of each peer it hears (the checks' reduction).
    Read,
    /// Heartbeats are messages in flight, as on the real network (async only).
    Messages,
}

impl From<HeartbeatsArg> for Heartbeats {
    fn from(h: HeartbeatsArg) -> Self {
        match h {
            HeartbeatsArg::Read => Heartbeats::Read,
            HeartbeatsArg::Messages => Heartbeats::Messages,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum NodedownsArg {
    /// Each nodedown waits for its receiver and arrives at any later step (the full model).
    Queued,
    /// None is kept; every state checks that the core would ignore one (default for fenced).
    Inert,
}

impl From<NodedownsArg> for Nodedowns {
    fn from(n: NodedownsArg) -> Self {
        match n {
            NodedownsArg::Queued => Nodedowns::Queued,
            NodedownsArg::Inert => Nodedowns::Inert,
        }
    }
}

impl From<NetworkArg> for NetworkMode {
    fn from(n: NetworkArg) -> Self {
        match n {
            NetworkArg::Fifo => NetworkMode::Fifo,
            NetworkArg::Unordered => NetworkMode::Unordered,
            NetworkArg::Outbox => NetworkMode::Outbox,
        }
    }
}

/// The model to check; unset bounds take the defaults of the design, size and timing.
#[derive(Args, Clone)]
struct ModelArgs {
    /// Design to check.
    #[arg(long, value_enum, default_value = "fenced")]
    design: DesignArg,
    /// Number of nodes (2 to 6).
    #[arg(long, default_value_t = 3)]
    nodes: u16,
    /// async: any interleaving (safety); timed: global clock, bounded delivery (time bounds).
    #[arg(long, value_enum)]
    timing: Option<TimingArg>,
    /// Where runs start.
    #[arg(long, value_enum)]
    start: Option<StartArg>,
    /// What the network may do with messages in flight.
    #[arg(long, value_enum)]
    network: Option<NetworkArg>,
    /// How heartbeats reach a node.
    #[arg(long, value_enum)]
    heartbeats: Option<HeartbeatsArg>,
    /// What becomes of nodedowns: queued, or inert (the core must ignore them; checked).
    #[arg(long, value_enum)]
    nodedowns: Option<NodedownsArg>,
    /// Messages a directed link holds (more are dropped, as a full outbox drops them).
    #[arg(long)]
    link_capacity: Option<u8>,
    /// Clean shutdowns (nodedown at once).
    #[arg(long)]
    clean_shutdowns: Option<u8>,
    /// Unclean shutdowns (nodedown after net-tick).
    #[arg(long)]
    unclean_shutdowns: Option<u8>,
    /// Restarts from disk.
    #[arg(long)]
    restarts: Option<u8>,
    /// Losses of a stopped node's disk (it restarts blank and rejoins; needs --restarts).
    #[arg(long)]
    disk_losses: Option<u8>,
    /// Pauses (each can resume with stale state).
    #[arg(long)]
    pauses: Option<u8>,
    /// Lost messages.
    #[arg(long)]
    losses: Option<u8>,
    /// Messages delivered twice.
    #[arg(long)]
    duplicates: Option<u8>,
    /// Reconnects that drop everything queued on a link.
    #[arg(long)]
    link_drops: Option<u8>,
    /// Ticks at which a node misses a live peer's heartbeat (false suspicion).
    #[arg(long)]
    late_heartbeats: Option<u8>,
    /// Symmetric partitions (each can heal).
    #[arg(long)]
    partitions: Option<u8>,
    /// One-way cuts: a deaf node, or one link down in one direction (each can heal).
    #[arg(long)]
    one_way_cuts: Option<u8>,
    /// Rebalances started.
    #[arg(long)]
    rebalances: Option<u8>,
    /// Steps of each rebalance (one committed per tick).
    #[arg(long)]
    rebalance_steps: Option<u32>,
    /// canAbortRebalance at the start: a failover aborts a running rebalance.
    #[arg(long)]
    can_abort_rebalance: Option<bool>,
    /// Failover-count resets.
    #[arg(long)]
    quota_resets: Option<u8>,
    /// Settings changes (auto-failover on/off, canAbortRebalance on/off).
    #[arg(long)]
    settings_changes: Option<u8>,
    /// Highest term expanded.
    #[arg(long)]
    max_term: Option<u32>,
    /// Highest config revision expanded.
    #[arg(long)]
    max_revision: Option<u32>,
    /// Longest path explored (a run that reaches it is not exhaustive).
    #[arg(long)]
    max_depth: Option<usize>,
    /// Auto-failover timeout in ticks.
    #[arg(long)]
    timeout_ticks: Option<u32>,
    /// Ticks of silence after which a peer no longer counts as heard (master choice,
    /// check-quorum).
    #[arg(long)]
    master_ticks: Option<u32>,
    /// Missed heartbeats in a row that a detector still counts as up (the implementation
    /// tolerates 1).
    #[arg(long)]
    tolerated_misses: Option<u32>,
    /// Failover quota.
    #[arg(long)]
    max_count: Option<u32>,
    /// Ticks from an unclean loss to nodedown (timed).
    #[arg(long)]
    net_tick: Option<u8>,
    /// Allowed ticks beyond the timeout for a failover (timed).
    #[arg(long)]
    slack: Option<u8>,
    /// Last tick of the clock (timed).
    #[arg(long)]
    horizon: Option<u8>,
    /// timed: carry out each tick's deliveries one by one, so that losses, cuts, crashes
    /// and pauses can fall between them (the clock still waits for quiet).
    #[arg(long)]
    faults_in_flight: bool,
    /// Demonstration only: drive nodes with a broken driver that sends before it persists.
    #[arg(long, hide = true)]
    unsafe_send_before_persist: bool,
}

impl ModelArgs {
    fn setup(&self, design: Design, timing: Timing) -> Result<Setup, String> {
        let mut s = Setup::new(design, self.nodes, timing);
        let b = &mut s.bounds;
        macro_rules! set {
            ($target:expr, $value:expr) => {
                if let Some(v) = $value {
                    $target = v;
                }
            };
        }
        set!(b.clean_shutdowns, self.clean_shutdowns);
        set!(b.unclean_shutdowns, self.unclean_shutdowns);
        set!(b.restarts, self.restarts);
        set!(b.disk_losses, self.disk_losses);
        set!(b.pauses, self.pauses);
        set!(b.losses, self.losses);
        set!(b.duplicates, self.duplicates);
        set!(b.link_drops, self.link_drops);
        set!(b.late_heartbeats, self.late_heartbeats);
        set!(b.partitions, self.partitions);
        set!(b.one_way_cuts, self.one_way_cuts);
        set!(b.rebalances, self.rebalances);
        set!(b.quota_resets, self.quota_resets);
        set!(b.settings_changes, self.settings_changes);
        set!(s.start, self.start.map(Start::from));
        set!(s.network, self.network.map(NetworkMode::from));
        set!(s.heartbeats, self.heartbeats.map(Heartbeats::from));
        set!(s.nodedowns, self.nodedowns.map(Nodedowns::from));
        set!(s.link_capacity, self.link_capacity);
        set!(s.rebalance_steps, self.rebalance_steps);
        set!(s.can_abort_rebalance, self.can_abort_rebalance);
        set!(s.max_revision, self.max_revision);
        set!(s.max_depth, self.max_depth);
        set!(s.timeout_ticks, self.timeout_ticks);
        set!(s.master_ticks, self.master_ticks);
        set!(s.tolerated_misses, self.tolerated_misses);
        set!(s.max_count, self.max_count);
        set!(s.net_tick_ticks, self.net_tick);
        set!(s.slack_ticks, self.slack);
        if self.horizon.is_none() && (self.timeout_ticks.is_some() || self.slack.is_some()) {
            s.horizon = s.failover_bound() + 2;
        }
        set!(s.horizon, self.horizon);
        // In timed, a node asks for a term at most once a tick: keep the term bound above
        // what the horizon allows, unless asked for another.
        if s.timing == Timing::Timed && self.max_term.is_none() {
            s.max_term = u32::from(s.horizon) * u32::from(s.nodes) + 2;
        }
        set!(s.max_term, self.max_term);
        s.faults_in_flight = self.faults_in_flight;
        s.unsafe_send_before_persist = self.unsafe_send_before_persist;
        s.validate()?;
        Ok(s)
    }
}

#[derive(Args)]
struct CheckArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Check all three designs (both timings unless --timing is given) and print one
    /// comparison table.
    #[arg(long, conflicts_with = "profile")]
    all: bool,
    /// Check a profile of fenced runs: ci (every pair of fault kinds, small bounds, both
    /// timings; the async pairs that do not fit are walked, not searched) or deep (those
    /// pairs searched, a few larger runs, every kind together on 3 nodes, and 4 nodes with
    /// four kinds). --timing keeps the runs of one timing; other model options are ignored.
    #[arg(long, value_enum)]
    profile: Option<ProfileArg>,
    /// With --profile: only the runs of these labels, as the profile prints them (e.g.
    /// pause+rebalance, or "pause+rebalance (canAbortRebalance)").
    #[arg(long = "run", value_name = "LABEL", requires = "profile")]
    runs: Vec<String>,
    /// Checker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Visiting order: dfs (little memory) or bfs (short violations first).
    #[arg(long, value_enum, default_value = "dfs")]
    search: SearchArg,
    /// Hunt rather than prove: stop at the first violation (of the property named, if one
    /// is given). The run is then not exhaustive.
    #[arg(long, value_name = "PROPERTY", num_args = 0..=1, default_missing_value = "")]
    until_violated: Option<String>,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
    /// Stop a run whose resident memory passes this bound (e.g. 512M, 4G; a plain number
    /// is MiB) and report it "not exhaustive: memory bound", rather than be killed.
    #[arg(long, value_parser = parse_mib)]
    max_memory: Option<u64>,
    /// Stop a run after this many seconds and report it "not exhaustive: time bound".
    #[arg(long, value_name = "SECONDS")]
    max_time: Option<u64>,
    /// Keep sleep sets (async, links deliver in order): skip steps that commute with one
    /// already taken. The same states are visited with fewer successors generated, but
    /// more memory and, measured, no less time (README).
    #[arg(long)]
    sleep_sets: bool,
}

/// A memory size in MiB: `512`, `512M`, `4G`.
fn parse_mib(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let (digits, factor) = match t.char_indices().last() {
        Some((i, 'G' | 'g')) => (&t[..i], 1024),
        Some((i, 'M' | 'm')) => (&t[..i], 1),
        _ => (t, 1),
    };
    let value: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a size such as 512M or 4G"))?;
    if value == 0 {
        return Err("the memory bound must be above 0".into());
    }
    value
        .checked_mul(factor)
        .ok_or_else(|| format!("{text:?} is too large"))
}

#[derive(Clone, Copy, ValueEnum)]
enum ProfileArg {
    Ci,
    Deep,
}

#[derive(Clone, Copy, ValueEnum)]
enum SearchArg {
    Dfs,
    Bfs,
}

#[derive(Args)]
struct ExploreArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Port on 127.0.0.1.
    #[arg(long, default_value_t = 3000)]
    port: u16,
    /// Serve at once, without first checking for counterexamples to link.
    #[arg(long)]
    no_check: bool,
}

#[derive(Args)]
struct SimulateArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Seed of the random walks (printed; rerun with it to reproduce).
    #[arg(long)]
    seed: Option<u64>,
    /// States to generate before stopping.
    #[arg(long, default_value_t = 2_000_000)]
    states: usize,
    /// Longest walk.
    #[arg(long, default_value_t = 200)]
    depth: usize,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or_else(|| {
        Command::Check(CheckArgs {
            model: ModelArgs::parse_default(),
            all: false,
            profile: None,
            runs: Vec::new(),
            threads: None,
            search: SearchArg::Dfs,
            until_violated: None,
            json: None,
            max_memory: None,
            max_time: None,
            sleep_sets: false,
        })
    });
    match command {
        Command::Check(args) => check_command(args),
        Command::Explore(args) => explore_command(args),
        Command::Simulate(args) => simulate_command(args),
        Command::Validate(args) => validate_command(args),
    }
}

#[derive(Args)]
struct ValidateArgs {
    /// A journal file (one global order), or a directory of them (`*.jsonl`, one per
    /// node, merged in causal order).
    path: std::path::PathBuf,
}

fn validate_command(args: ValidateArgs) -> ExitCode {
    use failover_model::validate::{self, Verdict};
    let verdict = match validate::validate_path(&args.path) {
        Ok(verdict) => verdict,
        Err(e) => return fail(e.to_string()),
    };
    let figures = |r: &validate::Replay| {
        format!(
            "{} entries, {} model actions: {} restarts ({} after a disk loss), {} deliveries \
             ({} again), {} messages never delivered, {} silences as pauses, {} admin \
             commands, {} refused inputs",
            r.entries,
            r.actions,
            r.restarts,
            r.disk_losses,
            r.deliveries,
            r.duplicates,
            r.losses,
            r.silences,
            r.admin,
            r.refused
        )
    };
    match verdict {
        Verdict::Valid(replay) => {
            println!("a behaviour of the model, every `always` property holding");
            println!("{}", figures(&replay));
            ExitCode::SUCCESS
        }
        Verdict::Violates {
            property,
            at,
            replay,
        } => {
            println!("a behaviour of the model that VIOLATES {property:?} at entry {at}");
            println!("{}", figures(&replay));
            ExitCode::from(1)
        }
        Verdict::Mismatch(mismatch, replay) => {
            println!("NOT a behaviour of the model: {mismatch}");
            println!("{}", figures(&replay));
            ExitCode::from(1)
        }
    }
}

impl ModelArgs {
    fn parse_default() -> Self {
        #[derive(Parser)]
        struct Only {
            #[command(flatten)]
            model: ModelArgs,
        }
        Only::parse_from(["failover-model"]).model
    }
}

fn fail(message: String) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

fn options(threads: Option<usize>) -> RunOptions {
    let mut o = RunOptions {
        progress: true,
        ..RunOptions::default()
    };
    if let Some(t) = threads {
        o.threads = t.max(1);
    }
    o
}

fn check_options(args: &CheckArgs) -> RunOptions {
    let mut o = options(args.threads);
    o.search = match args.search {
        SearchArg::Dfs => Search::Dfs,
        SearchArg::Bfs => Search::Bfs,
    };
    o.stop_at = match args.until_violated.as_deref() {
        None => StopAt::Never,
        Some("") => StopAt::AnyViolation,
        Some(name) => StopAt::Violation(name.to_string()),
    };
    o.max_memory_mib = args.max_memory;
    o.max_time = args.max_time.map(std::time::Duration::from_secs);
    o.sleep_sets = args.sleep_sets;
    o
}

fn write_json(path: &std::path::Path, value: &impl serde::Serialize) -> Result<(), String> {
    let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    std::fs::write(path, text + "\n").map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn check_command(args: CheckArgs) -> ExitCode {
    let options = check_options(&args);
    if args.all {
        return check_all(&args, &options);
    }
    if let Some(profile) = args.profile {
        let profile = match profile {
            ProfileArg::Ci => Profile::Ci,
            ProfileArg::Deep => Profile::Deep,
        };
        return check_profile(profile, &args, &options);
    }
    let timing = args.model.timing.map_or(Timing::Async, Timing::from);
    let setup = match args.model.setup(args.model.design.into(), timing) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let report = check::run(&setup, &options);
    print!("{}", report.render());
    if let Some(path) = &args.json {
        if let Err(e) = write_json(path, &report) {
            return fail(e);
        }
    }
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn check_all(args: &CheckArgs, options: &RunOptions) -> ExitCode {
    let timings: Vec<Timing> = match args.model.timing {
        Some(t) => vec![t.into()],
        None => vec![Timing::Async, Timing::Timed],
    };
    let mut reports = Vec::new();
    for design in Design::ALL {
        for timing in &timings {
            let setup = match args.model.setup(design, *timing) {
                Ok(s) => s,
                Err(e) => return fail(e),
            };
            let report = check::run(&setup, options);
            println!(
                "{:<6} {:<5}  {:>9} unique states  {:>6.1} s  {:>5} MiB  {}",
                report.design,
                report.timing,
                report.unique_states,
                report.elapsed_s,
                report.peak_rss_mib,
                if report.exhaustive {
                    "exhaustive"
                } else if report.memory_bound_reached {
                    "CUT SHORT: memory bound"
                } else if report.time_bound_reached {
                    "CUT SHORT: time bound"
                } else {
                    "CUT SHORT"
                }
            );
            reports.push(report);
        }
    }
    println!();
    print!("{}", comparison_table(&reports));
    println!(
        "\nSee a counterexample: failover-model check --design poc (or legacy) [--timing timed]"
    );
    if let Some(path) = &args.json {
        if let Err(e) = write_json(path, &reports) {
            return fail(e);
        }
    }
    // The other designs are expected to fail; --all succeeds when fenced passes everywhere.
    let fenced_ok = reports
        .iter()
        .filter(|r| r.design == "fenced")
        .all(Report::passed);
    let all_exhaustive = reports.iter().all(|r| r.exhaustive);
    if fenced_ok && all_exhaustive {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// One run of a profile, as the JSON output lists it.
#[derive(serde::Serialize)]
struct ProfileRow {
    kinds: String,
    passed: bool,
    /// The exhaustive search, if the run is one.
    report: Option<Report>,
    /// The random walks, if the run is walked.
    walk: Option<walk::WalkReport>,
    /// The bounds of a walked run.
    setup: Setup,
}

fn check_profile(profile: Profile, args: &CheckArgs, options: &RunOptions) -> ExitCode {
    let timing = args.model.timing.map(Timing::from);
    let runs: Vec<_> = profile::runs(profile)
        .into_iter()
        .filter(|r| timing.is_none_or(|t| r.setup.timing == t))
        .filter(|r| args.runs.is_empty() || args.runs.contains(&r.label()))
        .collect();
    if runs.is_empty() {
        return fail(format!(
            "profile {} has no run labelled {} (the labels are those its report prints)",
            profile.name(),
            args.runs.join(", ")
        ));
    }
    let walked = runs.iter().filter(|r| r.walk.is_some()).count();
    println!(
        "profile {}: {} fenced runs ({} searched, {walked} walked: not exhaustive); 3 nodes \
         unless said; async: max term 2, links hold 1; timed: horizon {}",
        profile.name(),
        runs.len(),
        runs.len() - walked,
        profile::TIMED_HORIZON
    );
    let started = std::time::Instant::now();
    let mut rows = Vec::new();
    for run in &runs {
        let row = match run.walk {
            None => {
                let report = check::run(&run.setup, options);
                let verdict = if report.passed() {
                    "passed".to_string()
                } else if !report.exhaustive {
                    format!("FAILED: {}", report.extent())
                } else {
                    let failing: Vec<&str> = report
                        .properties
                        .iter()
                        .filter(|p| !matches!(p.status, Status::Holds | Status::Witnessed))
                        .map(|p| p.name)
                        .collect();
                    format!("FAILED: {}", failing.join(", "))
                };
                println!(
                    "{:<6} {:<2} {:<36} {:>10} states {:>7.1} s {:>6} MiB  {verdict}",
                    report.timing,
                    report.nodes,
                    run.label(),
                    report.unique_states,
                    report.elapsed_s,
                    report.peak_rss_mib
                );
                ProfileRow {
                    kinds: run.label(),
                    passed: report.passed(),
                    report: Some(report),
                    walk: None,
                    setup: run.setup.clone(),
                }
            }
            Some(plan) => {
                let report = walk::walk(&run.setup, plan.seed, plan.states, plan.depth);
                let violated: Vec<&str> = report
                    .properties
                    .iter()
                    .filter(|p| p.result == "VIOLATED")
                    .map(|p| p.name)
                    .collect();
                let verdict = if violated.is_empty() {
                    format!("walked, seed {}: no violation seen", plan.seed)
                } else {
                    format!(
                        "walked, seed {}: VIOLATED {}",
                        plan.seed,
                        violated.join(", ")
                    )
                };
                println!(
                    "{:<6} {:<2} {:<36} {:>10} walked  {:>7.1} s {:>10}  {verdict}",
                    run.setup.timing.to_string(),
                    run.setup.nodes,
                    run.label(),
                    report.states,
                    report.elapsed_s,
                    ""
                );
                ProfileRow {
                    kinds: run.label(),
                    passed: violated.is_empty(),
                    report: None,
                    walk: Some(report),
                    setup: run.setup.clone(),
                }
            }
        };
        rows.push(row);
    }
    let passed = rows.iter().filter(|r| r.passed).count();
    let states: usize = rows
        .iter()
        .filter_map(|r| r.report.as_ref())
        .map(|r| r.unique_states)
        .sum();
    let walked_states: usize = rows
        .iter()
        .filter_map(|r| r.walk.as_ref())
        .map(|w| w.states)
        .sum();
    let peak = rows
        .iter()
        .filter_map(|r| r.report.as_ref())
        .map(|r| r.peak_rss_mib)
        .max()
        .unwrap_or(0);
    let walked_ok = rows.iter().filter(|r| r.walk.is_some() && r.passed).count();
    println!(
        "\n{} of {} searches passed (exhaustive) · {walked_ok} of {walked} walks saw no violation \
         (not exhaustive) · {states} unique states searched · {walked_states} states walked · \
         {:.0} s · peak memory {peak} MiB",
        passed - walked_ok,
        rows.len() - walked,
        started.elapsed().as_secs_f64()
    );
    if let Some(path) = &args.json {
        if let Err(e) = write_json(path, &rows) {
            return fail(e);
        }
    }
    if passed == rows.len() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// One row per property, one column per design; each cell merges the timings.
fn comparison_table(reports: &[Report]) -> String {
    let mut names: Vec<(&str, &str)> = Vec::new();
    for r in reports {
        for p in &r.properties {
            if !names.iter().any(|(n, _)| *n == p.name) {
                names.push((p.name, p.kind));
            }
        }
    }
    let width = names.iter().map(|(n, _)| n.len()).max().unwrap_or(8);
    let mut out = format!("{:<width$}  {:<9}", "property", "kind");
    for design in Design::ALL {
        out += &format!("  {:<22}", design.name());
    }
    out += "\n";
    for (name, kind) in names {
        out += &format!("{name:<width$}  {kind:<9}");
        for design in Design::ALL {
            let cells: Vec<(String, Status, usize)> = reports
                .iter()
                .filter(|r| r.design == design.name())
                .filter_map(|r| {
                    let p = r.properties.iter().find(|p| p.name == name)?;
                    Some((r.timing.clone(), p.status, p.trace.len()))
                })
                .collect();
            out += &format!("  {:<22}", merge_cells(&cells));
        }
        out += "\n";
    }
    out
}

fn merge_cells(cells: &[(String, Status, usize)]) -> String {
    if cells.is_empty() {
        return "-".into();
    }
    if let Some((timing, _, steps)) = cells.iter().find(|c| c.1 == Status::Violated) {
        return format!("VIOLATED {timing} ({steps} st)");
    }
    for bad in [Status::Unknown, Status::NotFound] {
        if let Some((timing, status, _)) = cells.iter().find(|c| c.1 == bad) {
            return format!("{} {timing}", status.word());
        }
    }
    cells[0].1.word().to_string()
}

fn explore_command(args: ExploreArgs) -> ExitCode {
    let timing = args.model.timing.map_or(Timing::Async, Timing::from);
    let setup = match args.model.setup(args.model.design.into(), timing) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let address = ("127.0.0.1", args.port);
    // The Explorer panics on a taken port; find out first and say so.
    if let Err(e) = std::net::TcpListener::bind(address) {
        return fail(format!(
            "cannot listen on 127.0.0.1:{}: {e} (choose another --port)",
            args.port
        ));
    }
    let url = format!("http://127.0.0.1:{}/", args.port);
    if !args.no_check {
        eprintln!("checking first, to link the counterexamples ...");
        let report = check::run(&setup, &options(None));
        let violated: Vec<_> = report
            .properties
            .iter()
            .filter(|p| p.status == Status::Violated)
            .collect();
        if violated.is_empty() {
            println!("no counterexample: every always-property holds within the bounds");
        }
        for p in violated {
            if let Some(path) = &p.explorer_path {
                println!("{}: {url}{path}", p.name);
            }
        }
    }
    println!("Explorer: {url}  (Ctrl-C to stop)");
    FailoverModel::new(setup).checker().serve(address);
    ExitCode::SUCCESS
}

fn simulate_command(args: SimulateArgs) -> ExitCode {
    let timing = args.model.timing.map_or(Timing::Async, Timing::from);
    let setup = match args.model.setup(args.model.design.into(), timing) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
    });
    println!(
        "simulating {} with {} nodes ({}), seed {seed}",
        setup.design, setup.nodes, setup.timing
    );
    let report = walk::walk(&setup, seed, args.states, args.depth);
    println!(
        "{} states in {:.1} s ({:.0} states/s), max depth {}, seed {seed} (random walks: not exhaustive)",
        report.states, report.elapsed_s, report.states_per_s, report.max_depth
    );
    for property in &report.properties {
        println!("  {:<34} {}", property.name, property.result);
        for step in &property.trace {
            println!("    {:>3}. {}", step.step, step.action);
            for change in &step.changes {
                println!("         {change}");
            }
        }
    }
    let violated = report.violated();
    if violated {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
