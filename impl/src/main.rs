//! `failover`: run a node, a local cluster, inject faults, benchmark failover.

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use failover_core::Design;
use failover_impl::bench::{self, BenchFault, BenchSpec};
use failover_impl::cluster::{self, Cluster, Fault, Spec, Timings};
use failover_impl::config::NodeConfig;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use tokio::signal::unix::{signal, SignalKind};

#[derive(Parser)]
#[command(
    name = "failover",
    version,
    about = "Fast, verified orchestrator failover: nodes, local clusters, faults and benchmarks"
)]
struct Cli {
    #[command(subcommand)]
    command: Top,
}

#[derive(Subcommand)]
enum Top {
    /// Run one node.
    Node {
        /// The node's TOML config.
        #[arg(long)]
        config: PathBuf,
        /// The data directory has no state yet because this is a member of a brand-new
        /// cluster: start it from the first config.
        #[arg(long, conflicts_with = "rejoin")]
        bootstrap: bool,
        /// The data directory lost this node's state: start on a new disk identity, and
        /// vote or accept nothing until the cluster has readmitted it.
        #[arg(long)]
        rejoin: bool,
        /// Append every start and core step of this node to FILE as JSON lines, for
        /// `failover-model validate`.
        #[arg(long, value_name = "FILE")]
        journal: Option<PathBuf>,
        #[command(flatten)]
        log: LogArgs,
    },
    /// Start or stop a local cluster.
    Cluster {
        #[command(subcommand)]
        command: ClusterCommand,
    },
    /// One row per node of a local cluster.
    Status {
        /// The cluster's directory.
        #[arg(long)]
        dir: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Inject a fault into a node of a local cluster.
    Fault {
        /// kill (SIGKILL), pause (SIGSTOP), resume (SIGCONT) or restart.
        fault: Fault,
        /// A node id, or `orchestrator`.
        node: String,
        /// The cluster's directory.
        #[arg(long)]
        dir: PathBuf,
    },
    /// Run the real node in a deterministic simulation through seeded fault schedules,
    /// then check every host's committed history.
    Sim(SimArgs),
    /// Measure failover latency of the orchestrator and of another node.
    Bench {
        /// Nodes per cluster.
        #[arg(long, default_value_t = 3)]
        nodes: u16,
        /// Runs per design and target.
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Designs, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "fenced,legacy")]
        designs: Vec<Design>,
        #[command(flatten)]
        timings: TimingArgs,
        /// The fault injected into the target.
        #[arg(long, value_enum, default_value = "pause")]
        fault: BenchFault,
        /// Where bench.json and bench.svg go.
        #[arg(long, default_value = "bench-out")]
        out: PathBuf,
        /// Do not run: redraw bench.svg and reprint the summary from OUT/bench.json.
        #[arg(long)]
        replot: bool,
    },
}

#[derive(Args)]
struct SimArgs {
    /// Replay one run: print its schedule, what the admin requests did, and its verdict.
    #[arg(long, conflicts_with = "seeds")]
    seed: Option<u64>,
    /// Run this many seeds (from --first-seed) and print a summary.
    #[arg(long)]
    seeds: Option<u64>,
    /// The first seed of a batch.
    #[arg(long, default_value_t = 1)]
    first_seed: u64,
    /// Nodes per cluster.
    #[arg(long, default_value_t = 3)]
    nodes: u16,
    /// fenced, legacy or poc.
    #[arg(long, default_value = "fenced")]
    design: Design,
    /// Simulated seconds per run (at least 20).
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Threads for a batch.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Simulated milliseconds per simulation step (the grain of timers and latency).
    #[arg(long, default_value_t = 10)]
    step_ms: u64,
    /// With --seed: write every start and core step of every host, in order, as JSON
    /// lines (what `failover-model validate` reads).
    #[arg(long, requires = "seed")]
    journal: Option<PathBuf>,
}

#[derive(Subcommand)]
enum ClusterCommand {
    /// Write configs and a fresh secret into DIR, start the nodes, wait for an orchestrator.
    Up {
        /// Number of nodes.
        #[arg(long, default_value_t = 3)]
        nodes: u16,
        /// The cluster's directory.
        #[arg(long)]
        dir: PathBuf,
        /// fenced, legacy or poc.
        #[arg(long, default_value = "fenced")]
        design: Design,
        #[command(flatten)]
        timings: TimingArgs,
        /// Leave the nodes running and return.
        #[arg(long)]
        detach: bool,
        /// Each node appends every start and core step to DIR/journals/nID.jsonl, for
        /// `failover-model validate DIR/journals`.
        #[arg(long)]
        journals: bool,
        #[command(flatten)]
        log: LogArgs,
    },
    /// Stop the nodes of the cluster in DIR.
    Down {
        /// The cluster's directory.
        #[arg(long)]
        dir: PathBuf,
    },
}

#[derive(Args, Clone)]
struct TimingArgs {
    /// Heartbeat interval (one detection tick), ms.
    #[arg(long, default_value_t = 100)]
    heartbeat_ms: u64,
    /// Auto-failover timeout, ms.
    #[arg(long, default_value_t = 1000)]
    timeout_ms: u64,
    /// Net-tick timeout (silence before an unclean nodedown), ms.
    #[arg(long, default_value_t = 4000)]
    net_tick_ms: u64,
    /// Failover quota.
    #[arg(long, default_value_t = 1)]
    max_count: u32,
}

impl TimingArgs {
    fn timings(&self) -> Timings {
        Timings {
            heartbeat_ms: self.heartbeat_ms,
            timeout_ms: self.timeout_ms,
            net_tick_ms: self.net_tick_ms,
            max_count: self.max_count,
        }
    }
}

#[derive(Args, Clone)]
struct LogArgs {
    /// Log filter: a level, or `target=level` directives
    /// (`info,failover::core=debug` logs every core input and output).
    #[arg(long, default_value = "info")]
    log: String,
    /// Log JSON lines instead of text.
    #[arg(long)]
    log_json: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The simulation runs turmoil's own runtimes: it must not run inside another one.
    if let Top::Sim(args) = &cli.command {
        return simulate(args);
    }
    if !matches!(cli.command, Top::Node { .. }) {
        // `failover status | head` should end quietly, as other tools do. A node keeps the
        // ignored SIGPIPE (a closed peer socket is an error to handle, not a death).
        // SAFETY: set before any other thread exists; SIG_DFL needs no handler.
        unsafe {
            let _ = nix::sys::signal::signal(
                nix::sys::signal::Signal::SIGPIPE,
                nix::sys::signal::SigHandler::SigDfl,
            );
        }
    }
    // A node's work is small and bursty: one thread wakes far less often than a pool,
    // which is what lets many nodes share a machine (a late tick that this costs is one
    // tolerated missed heartbeat at the peers). The tools keep two threads.
    let runtime = match cli.command {
        Top::Node { .. } => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        _ => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build(),
    }
    .expect("tokio runtime");
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            let config_error = e
                .chain()
                .any(|c| c.is::<failover_impl::config::ConfigError>());
            ExitCode::from(if config_error { 2 } else { 1 })
        }
    }
}

fn simulate(args: &SimArgs) -> ExitCode {
    use failover_impl::sim;
    let options = sim::Options {
        nodes: args.nodes,
        design: args.design,
        duration: Duration::from_secs(args.seconds.max(20)),
        step: Duration::from_millis(args.step_ms.clamp(1, 50)),
        ..sim::Options::default()
    };
    if !(3..=9).contains(&args.nodes) {
        eprintln!("error: --nodes must be between 3 and 9");
        return ExitCode::from(2);
    }
    let passed = match (args.seed, args.seeds) {
        (Some(seed), _) => {
            let outcome = sim::run(seed, &options);
            print!("{outcome}");
            if let Some(path) = &args.journal {
                let lines: Vec<String> = outcome
                    .entries
                    .iter()
                    .map(|r| serde_json::to_string(r).expect("records serialise"))
                    .collect();
                if let Err(e) = std::fs::write(path, lines.join("\n") + "\n") {
                    eprintln!("error: cannot write {}: {e}", path.display());
                    return ExitCode::from(2);
                }
            }
            outcome.passed()
        }
        (None, count) => {
            let count = count.unwrap_or(100);
            let progress = indicatif::ProgressBar::new(count).with_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} runs · {elapsed} · {msg}",
                )
                .expect("a valid template"),
            );
            let failures = std::sync::atomic::AtomicUsize::new(0);
            let summary = sim::batch(args.first_seed, count, args.threads, &options, |o| {
                if !o.passed() {
                    failures.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let line = format!(
                        "seed {}: {}",
                        o.schedule.seed,
                        o.violations
                            .first()
                            .map(|v| format!("VIOLATED \"{}\": {}", v.property, v.detail))
                            .or(o.error.clone())
                            .unwrap_or_else(|| "liveness missed".into())
                    );
                    if progress.is_hidden() {
                        eprintln!("{line}");
                    } else {
                        progress.println(line);
                    }
                }
                progress.inc(1);
                progress.set_message(format!(
                    "{} failed",
                    failures.load(std::sync::atomic::Ordering::Relaxed)
                ));
            });
            progress.finish_and_clear();
            println!(
                "{} · {} nodes · seeds {}..={} · {} simulated s each",
                args.design,
                args.nodes,
                args.first_seed,
                args.first_seed + count - 1,
                options.duration.as_secs()
            );
            print!("{summary}");
            summary.failed.is_empty() && summary.liveness_missed.is_empty()
        }
    };
    if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn exe() -> anyhow::Result<PathBuf> {
    std::env::current_exe().context("cannot find the failover executable")
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Top::Node {
            config,
            bootstrap,
            rejoin,
            journal,
            log,
        } => {
            let config = NodeConfig::load(&config)?;
            failover_impl::logging::init(&log.log, log.log_json)?;
            let start = match (bootstrap, rejoin) {
                (true, _) => failover_impl::node::Start::Bootstrap,
                (_, true) => failover_impl::node::Start::Rejoin,
                _ => failover_impl::node::Start::FromDisk,
            };
            let journal = match journal {
                Some(path) => Some(
                    failover_impl::seams::FileJournal::append(&path)
                        .with_context(|| format!("cannot open the journal {}", path.display()))?,
                ),
                None => None,
            };
            failover_impl::node::run(config, start, journal).await
        }
        Top::Cluster {
            command:
                ClusterCommand::Up {
                    nodes,
                    dir,
                    design,
                    timings,
                    detach,
                    journals,
                    log,
                },
        } => {
            let spec = Spec {
                nodes,
                design,
                timings: timings.timings(),
                log: log.log,
                log_json: log.log_json,
                journals,
            };
            // Listen for Ctrl-C (and SIGTERM, SIGHUP) before the first node starts: one
            // that comes during start-up still stops the nodes, once they are up.
            let mut stops = Vec::new();
            if !detach {
                for kind in [
                    SignalKind::interrupt(),
                    SignalKind::terminate(),
                    SignalKind::hangup(),
                ] {
                    stops.push(signal(kind)?);
                }
            }
            let mut cluster = Cluster::create(&dir, &spec, &exe()?)?;
            cluster.bootstrap_all()?;
            let settled = cluster.wait_settled(Duration::from_secs(30)).await;
            if let Err(e) = settled {
                cluster.stop_all()?;
                return Err(e);
            }
            print!("{}", cluster::table(&cluster.statuses().await));
            println!(
                "admin token: {}",
                cluster.dir().join("admin.token").display()
            );
            if detach {
                println!(
                    "nodes left running; stop them with `failover cluster down --dir {}`",
                    dir.display()
                );
                return Ok(());
            }
            println!("running; Ctrl-C stops the cluster");
            let [interrupt, terminate, hangup] = &mut stops[..] else {
                unreachable!("three signal streams in the foreground")
            };
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
                _ = hangup.recv() => {}
            }
            cluster.stop_all()?;
            println!("stopped");
            Ok(())
        }
        Top::Cluster {
            command: ClusterCommand::Down { dir },
        } => {
            let mut cluster = Cluster::load(&dir, &exe()?)?;
            cluster.stop_all()?;
            println!("stopped the nodes of {}", dir.display());
            Ok(())
        }
        Top::Status { dir, json } => {
            let mut cluster = Cluster::load(&dir, &exe()?)?;
            let rows = cluster.statuses().await;
            if json {
                let rows: Vec<_> = rows
                    .iter()
                    .map(|(m, state, status)| {
                        serde_json::json!({
                            "id": m.id,
                            "process": format!("{state:?}").to_lowercase(),
                            "listen": m.listen,
                            "admin": m.admin,
                            "status": status,
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                print!("{}", cluster::table(&rows));
            }
            Ok(())
        }
        Top::Fault { fault, node, dir } => {
            let mut cluster = Cluster::load(&dir, &exe()?)?;
            let id = cluster.resolve(&node).await?;
            match fault {
                Fault::Restart => cluster.restart(id, Duration::from_secs(10)).await?,
                _ => cluster.fault(id, fault)?,
            }
            println!("{fault:?} node {id}");
            Ok(())
        }
        Top::Sim(_) => unreachable!("the simulation runs outside the runtime"),
        Top::Bench {
            nodes,
            runs,
            designs,
            timings,
            fault,
            out,
            replot,
        } => {
            if replot {
                let path = out.join("bench.json");
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                let report: bench::Report = serde_json::from_str(&text)
                    .with_context(|| format!("{} is not a bench report", path.display()))?;
                std::fs::write(out.join("bench.svg"), bench::svg(&report))?;
                print!("{}", bench::summary(&report));
                return Ok(());
            }
            let spec = BenchSpec {
                nodes,
                runs,
                designs,
                timings: timings.timings(),
                fault,
                out: out.clone(),
            };
            let report = bench::run(&spec, &exe()?).await?;
            print!("{}", bench::summary(&report));
            println!(
                "wrote {} and {}",
                out.join("bench.json").display(),
                out.join("bench.svg").display()
            );
            Ok(())
        }
    }
}
