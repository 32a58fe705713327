//! One simulated run: turmoil hosts `n1..nN` each running the real node
//! ([`crate::node::serve`] on [`SimNet`] and [`SimDisk`]), a control host `ctl` that sends
//! admin requests over HTTP, and the schedule applied between simulation steps.

use super::history::Recorder;
use super::schedule::{Action, AdminRequest, Host, Schedule};
use crate::auth::Key;
use crate::config::{NodeConfig, PeerConfig, DEFAULT_MAX_FRAME_BYTES};
use crate::node::{serve, Start};
use crate::seams::{Env, SimDisk, SimNet};
use failover_core::Design;
use std::cell::{Cell, RefCell};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};
use tokio::sync::{mpsc, watch};

/// Port of every node's peer listener.
const PEER_PORT: u16 = 7000;
/// Port of every node's admin API.
const ADMIN_PORT: u16 = 8000;
/// The simulation's wall clock starts here (a fixed epoch, so that runs replay exactly).
pub const EPOCH_MS: u64 = 1_790_000_000_000;

/// Timings and sizes of a simulated cluster (the defaults of `failover cluster up`).
#[derive(Clone, Debug)]
pub struct Options {
    /// Hosts.
    pub nodes: u16,
    /// What they run.
    pub design: Design,
    /// Simulated length of each run.
    pub duration: Duration,
    /// Heartbeat period.
    pub heartbeat_ms: u64,
    /// Auto-failover timeout.
    pub timeout_ms: u64,
    /// Silence before an unclean nodedown.
    pub net_tick_ms: u64,
    /// Failover quota.
    pub max_count: u32,
    /// Largest one-way latency of a message (each draws its own, so links reorder across
    /// connections).
    pub max_latency: Duration,
    /// Simulated time per simulation step: every host runs this long, then the network
    /// delivers (the grain of timers and latency).
    pub step: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            nodes: 3,
            design: Design::Fenced,
            duration: Duration::from_secs(60),
            heartbeat_ms: 100,
            timeout_ms: 1000,
            net_tick_ms: 4000,
            max_count: 1,
            max_latency: Duration::from_millis(10),
            step: Duration::from_millis(10),
        }
    }
}

/// How a host starts when turmoil (re)starts it.
struct HostPlan {
    started: Cell<bool>,
    blank_next: Cell<bool>,
    paused: watch::Sender<bool>,
}

fn host_name(h: Host) -> String {
    format!("n{h}")
}

fn node_config(options: &Options, id: Host) -> NodeConfig {
    let peers = (1..=options.nodes)
        .filter(|p| *p != id)
        .map(|p| PeerConfig {
            id: p,
            address: SocketAddr::new(turmoil::lookup(host_name(p)), PEER_PORT),
            priority: u32::from(options.nodes - p),
        })
        .collect();
    let any = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
    NodeConfig {
        id,
        priority: u32::from(options.nodes - id),
        listen: SocketAddr::new(any, PEER_PORT),
        admin: SocketAddr::new(any, ADMIN_PORT),
        data_dir: PathBuf::from("/data"),
        design: options.design,
        secret_file: PathBuf::from("/unused"),
        heartbeat_ms: options.heartbeat_ms,
        failover_timeout_ms: options.timeout_ms,
        net_tick_timeout_ms: options.net_tick_ms,
        max_count: options.max_count,
        can_abort_rebalance: true,
        master_timeout_ms: None,
        max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
        peers,
    }
}

/// What the control host did with each admin request.
pub type AdminLog = Rc<RefCell<Vec<(Duration, AdminRequest, String)>>>;

/// A simulation being run.
pub struct World<'a> {
    sim: turmoil::Sim<'a>,
    options: Options,
    plans: Vec<Rc<HostPlan>>,
    admin: mpsc::UnboundedSender<AdminRequest>,
    /// What the control host did.
    pub admin_log: AdminLog,
    /// Every step of every node.
    pub recorder: Recorder,
    down: Vec<bool>,
    paused: Vec<bool>,
    /// The node killed for the liveness check, and when.
    pub killed: Option<(Host, Duration)>,
}

impl<'a> World<'a> {
    /// A cluster of `options.nodes` fresh hosts (empty disks: they bootstrap), seeded.
    pub fn new(seed: u64, options: &Options) -> World<'a> {
        crate::seams::seed_randomness(Some(seed));
        let mut builder = turmoil::Builder::new();
        builder
            .rng_seed(seed)
            .epoch(UNIX_EPOCH + Duration::from_millis(EPOCH_MS))
            .simulation_duration(options.duration + Duration::from_secs(60))
            .min_message_latency(Duration::ZERO)
            .max_message_latency(options.max_latency)
            .tick_duration(options.step)
            // Hosts run in a seeded random order each step, not always n1 first.
            .enable_random_order();
        // Nothing becomes durable by chance: only what the node syncs survives a crash.
        builder.fs().sync_probability(0.0);
        let mut sim = builder.build();
        let key = Key::from_bytes(&seed.to_le_bytes());
        let recorder = Recorder::default();
        let mut plans = Vec::new();
        for id in 1..=options.nodes {
            let (paused, _) = watch::channel(false);
            let plan = Rc::new(HostPlan {
                started: Cell::new(false),
                blank_next: Cell::new(false),
                paused,
            });
            plans.push(plan.clone());
            let (options, key, recorder) = (options.clone(), key.clone(), recorder.clone());
            sim.host(host_name(id), move || {
                let config = node_config(&options, id);
                let start = if !plan.started.replace(true) {
                    Start::Bootstrap
                } else if plan.blank_next.replace(false) {
                    wipe(&config.data_dir);
                    Start::Rejoin
                } else {
                    Start::FromDisk
                };
                let env = Env {
                    disk: Arc::new(SimDisk),
                    journal: Some(Arc::new(recorder.clone())),
                    paused: Some(plan.paused.subscribe()),
                };
                let key = key.clone();
                async move {
                    serve::<SimNet>(config, start, key, env, std::future::pending())
                        .await
                        .map_err(|e| format!("node n{id} stopped: {e:#}").into())
                }
            });
        }
        let (admin, requests) = mpsc::unbounded_channel();
        let admin_log: AdminLog = Rc::default();
        let requests = Rc::new(RefCell::new(Some(requests)));
        let (log, nodes, token) = (admin_log.clone(), options.nodes, key.admin_token());
        sim.client("ctl", async move {
            let mut requests = requests
                .borrow_mut()
                .take()
                .expect("the control host runs once");
            while let Some(request) = requests.recv().await {
                let outcome = super::admin::send(nodes, ADMIN_PORT, &token, request).await;
                log.borrow_mut().push((
                    turmoil::sim_elapsed().unwrap_or_default(),
                    request,
                    outcome,
                ));
            }
            Ok(())
        });
        World {
            sim,
            options: options.clone(),
            plans,
            admin,
            admin_log,
            recorder,
            down: vec![false; usize::from(options.nodes) + 1],
            paused: vec![false; usize::from(options.nodes) + 1],
            killed: None,
        }
    }

    /// Simulated time since the start.
    pub fn elapsed(&self) -> Duration {
        self.sim.elapsed()
    }

    /// Runs `schedule` to its end. A node that stops on its own (it could not persist, or
    /// refused to start) ends the run with an error.
    pub fn run(&mut self, schedule: &Schedule) -> Result<(), String> {
        let mut next = 0;
        while self.sim.elapsed() < schedule.duration {
            while next < schedule.events.len() && schedule.events[next].at <= self.sim.elapsed() {
                self.apply(&schedule.events[next].action);
                next += 1;
            }
            self.sim.step().map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    fn others(&self, h: Host) -> impl Iterator<Item = Host> + '_ {
        (1..=self.options.nodes).filter(move |o| *o != h)
    }

    fn apply(&mut self, action: &Action) {
        let name = |h: Host| host_name(h);
        match action {
            Action::Crash(h) => self.crash(*h),
            Action::Restart(h) | Action::RestartBlank(h) => {
                let h = *h;
                if self.down[usize::from(h)] && self.killed.is_none_or(|(k, _)| k != h) {
                    let blank = matches!(action, Action::RestartBlank(_));
                    self.plans[usize::from(h) - 1].blank_next.set(blank);
                    self.sim.bounce(name(h));
                    self.down[usize::from(h)] = false;
                }
            }
            Action::Pause(h) => {
                let h = *h;
                if !self.down[usize::from(h)] && !self.paused[usize::from(h)] {
                    self.paused[usize::from(h)] = true;
                    let _ = self.plans[usize::from(h) - 1].paused.send(true);
                    for o in self.others(h).collect::<Vec<_>>() {
                        self.sim.hold(name(h), name(o));
                    }
                }
            }
            Action::Resume(h) => {
                let h = *h;
                if self.paused[usize::from(h)] {
                    self.paused[usize::from(h)] = false;
                    let _ = self.plans[usize::from(h) - 1].paused.send(false);
                    for o in self.others(h).collect::<Vec<_>>() {
                        if !self.paused[usize::from(o)] {
                            self.sim.release(name(h), name(o));
                        }
                    }
                }
            }
            Action::Partition(side) => {
                for a in side {
                    for b in (1..=self.options.nodes).filter(|b| !side.contains(b)) {
                        self.sim.partition(name(*a), name(b));
                    }
                }
            }
            Action::CutOneWay { from, to } => self.sim.partition_oneway(name(*from), name(*to)),
            Action::Heal => {
                for a in 1..=self.options.nodes {
                    for b in a + 1..=self.options.nodes {
                        self.sim.repair(name(a), name(b));
                        if !self.paused[usize::from(a)] && !self.paused[usize::from(b)] {
                            self.sim.release(name(a), name(b));
                        }
                    }
                }
            }
            Action::Hold(a, b) => self.sim.hold(name(*a), name(*b)),
            Action::Release(a, b) => {
                if !self.paused[usize::from(*a)] && !self.paused[usize::from(*b)] {
                    self.sim.release(name(*a), name(*b));
                }
            }
            Action::Admin(request) => {
                let _ = self.admin.send(*request);
            }
            Action::KillOrchestrator => {
                if let Some(o) = self.recorder.orchestrator(self.options.design) {
                    self.crash(o.0);
                    self.killed = Some((o.0, self.sim.elapsed()));
                }
            }
        }
    }

    fn crash(&mut self, h: Host) {
        if !self.down[usize::from(h)] {
            self.sim.crash(host_name(h));
            self.down[usize::from(h)] = true;
            if self.paused[usize::from(h)] {
                self.paused[usize::from(h)] = false;
                let _ = self.plans[usize::from(h) - 1].paused.send(false);
                for o in self.others(h).collect::<Vec<_>>() {
                    if !self.paused[usize::from(o)] {
                        self.sim.release(host_name(h), host_name(o));
                    }
                }
            }
        }
    }
}

/// Removes a node's state files from its simulated disk (the disk was lost).
fn wipe(dir: &std::path::Path) {
    use turmoil::fs::shim::std::fs;
    for file in [
        "state.json",
        "committed.json",
        "state.json.tmp",
        "committed.json.tmp",
    ] {
        let _ = fs::remove_file(dir.join(file));
    }
    let _ = fs::sync_dir(dir);
}
