//! The driver: the one task that owns a node's [`Node`] and carries out the core's
//! calling contract. It feeds the core a tick per heartbeat interval, every authentic
//! message, every `nodedown` and every admin command; it persists what the core marks as
//! persistent before any message of that step leaves; it reports what the core decided.
//! It decides nothing about failover itself.

use crate::config::NodeConfig;
use crate::metrics::Metrics;
use crate::seams::{unix_ms, Env, Journal, StepRecord};
use crate::storage::Storage;
use crate::transport::{NetEvent, Transport};
use failover_core::{
    AdminCommand, AdminRefusal, ClusterConfig, Commit, Design, Event, FailoverRecord, Health,
    Input, Membership, Node, NodeId, Outgoing, Persistent, Ready, Revision, Role, StepError, Term,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;
// Monotonic time is tokio's, which a simulation controls.
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use tracing::{debug, error, info, warn};

/// Log target of every core input and output (debug level, JSON values), for replay.
pub const CORE_TARGET: &str = "failover::core";

/// A request for the driver.
#[derive(Debug)]
pub enum Command {
    /// An admin command; the reply comes once it is committed (or refused).
    Admin {
        /// The command.
        command: AdminCommand,
        /// Where the outcome goes.
        reply: oneshot::Sender<Result<Revision, AdminError>>,
    },
}

/// Why an admin command did not take effect.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdminError {
    /// The core refused it.
    #[error(transparent)]
    Refused(#[from] AdminRefusal),
    /// This node lost its leadership before the change committed; it may or may not commit.
    #[error("leadership lost before the change committed")]
    LostLeadership,
}

/// A peer as this node sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerView {
    /// Its id.
    pub id: u16,
    /// Its membership in this node's config.
    pub membership: Membership,
    /// Its health in this node's detector.
    pub health: Health,
    /// Ticks it has been silent (as the detector counts them).
    pub down_ticks: u32,
    /// Milliseconds since its last message, if any arrived.
    pub last_heard_ms: Option<u64>,
}

/// What `GET /status` shows. The cluster config it shows is one this node knows to be
/// committed; a newer config it proposed or accepted shows apart, as `pending`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// This node.
    pub id: u16,
    /// Its process id (tells a restarted node from the process it replaced).
    pub pid: u32,
    /// The design it runs.
    pub design: Design,
    /// `orchestrator`, `candidate` or `follower`.
    pub role: String,
    /// Whether it acts as orchestrator.
    pub is_orchestrator: bool,
    /// The master as its detector sees it.
    pub master: u16,
    /// The orchestrator as it knows it.
    pub orchestrator: Option<u16>,
    /// Highest term it knows.
    pub term: Term,
    /// The newest config this node knows to be committed (none yet for a node that lost its
    /// disk and is not readmitted).
    pub committed: Option<ConfigView>,
    /// A newer config this node proposed or accepted that it does not know to be committed.
    pub pending: Option<PendingView>,
    /// This node lost its disk and waits to be readmitted.
    pub rejoining: bool,
    /// The other members.
    pub peers: Vec<PeerView>,
}

impl Status {
    /// The committed config; panics if this node knows none (a test helper's shortcut).
    pub fn config(&self) -> &ConfigView {
        self.committed
            .as_ref()
            .expect("this node knows a committed config")
    }
}

/// A cluster config as the status shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigView {
    /// Its revision.
    pub revision: Revision,
    /// The term that committed it (0 outside `fenced`).
    pub term: Term,
    /// This node's own membership in it.
    pub membership: Membership,
    /// Failovers counted against the quota.
    pub failover_count: u32,
    /// The quota.
    pub max_count: u32,
    /// Whether auto-failover is on.
    pub enabled: bool,
    /// The auto-failover timeout in milliseconds.
    pub timeout_ms: u64,
    /// `canAbortRebalance`: a failover stops a running rebalance.
    pub can_abort_rebalance: bool,
    /// The running rebalance, if any.
    pub rebalance: Option<RebalanceView>,
    /// Rebalance steps committed so far (each moves data).
    pub map_version: u32,
    /// Every failed-over node, in commit order.
    pub failed_over: Vec<u16>,
}

/// A config this node holds but does not know to be committed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingView {
    /// Its revision.
    pub revision: Revision,
    /// The term it was proposed in.
    pub term: Term,
    /// Milliseconds since this node first held it.
    pub age_ms: u64,
    /// Nodes it would fail over that the committed config has not.
    pub failing_over: Vec<u16>,
}

/// A running rebalance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RebalanceView {
    /// The orchestrator that runs it.
    pub runner: u16,
    /// The runner's term.
    pub term: Term,
    /// Steps committed.
    pub done: u32,
    /// Steps in all.
    pub steps: u32,
}

/// One committed failover as this node learned it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailoverView {
    /// The failed-over node.
    pub node: u16,
    /// The committing term.
    pub term: Term,
    /// The config revision that holds it.
    pub revision: Revision,
    /// The node that decided it.
    pub issuer: u16,
    /// The quota period it counts in.
    pub quota_epoch: u32,
    /// Unix milliseconds when this node committed or learned it (none if before its start).
    pub seen_at_ms: Option<u64>,
    /// Whether this node committed it.
    pub committed_here: bool,
    /// From the detector's verdict ("failover") to the commit, on the committing node.
    pub detection_to_commit_ms: Option<u64>,
    /// From the last message heard from the node to the commit, on the committing node.
    pub silence_to_commit_ms: Option<u64>,
}

/// What the API and `main` hold of a running node.
#[derive(Clone, Debug)]
pub struct NodeHandle {
    /// The latest status.
    pub status: watch::Receiver<Status>,
    /// Commands for the driver.
    pub commands: mpsc::Sender<Command>,
    /// The metrics.
    pub metrics: Arc<Metrics>,
    /// Committed failovers.
    pub failovers: Arc<Mutex<Vec<FailoverView>>>,
    /// The heartbeat interval (converts milliseconds to ticks).
    pub heartbeat: Duration,
}

struct Waiter {
    revision: Revision,
    term: Option<Term>,
    reply: oneshot::Sender<Result<Revision, AdminError>>,
}

/// The driver of one node.
pub struct Driver {
    heartbeat: Duration,
    core: Node,
    storage: Storage,
    transport: Transport,
    metrics: Arc<Metrics>,
    status: watch::Sender<Status>,
    failovers: Arc<Mutex<Vec<FailoverView>>>,
    waiters: Vec<Waiter>,
    detected_at: BTreeMap<NodeId, Instant>,
    last_heard: BTreeMap<NodeId, Instant>,
    blocked: BTreeMap<NodeId, String>,
    /// The newest commit this node made or learned (recorded on disk for restarts).
    committed: Option<Commit>,
    /// The config held but not known committed, and since when.
    pending_since: Option<(Term, Revision, Instant)>,
    /// The orchestrator last reported (a change is logged).
    orchestrator_seen: Option<u16>,
    /// Where every step is reported, if anywhere.
    journal: Option<Arc<dyn Journal>>,
    /// While `true`, the node is stopped (a simulated pause).
    paused: Option<watch::Receiver<bool>>,
    /// Each peer's heartbeat-lag gauge, looked up once.
    lag_gauges: BTreeMap<NodeId, prometheus_client::metrics::gauge::Gauge<f64, AtomicU64>>,
}

/// A fatal driver error: the node stops rather than send what it could not persist.
#[derive(Debug, thiserror::Error)]
#[error("cannot persist state: {0}")]
pub struct Fatal(#[from] crate::storage::StorageError);

fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|e| format!("<{e}>"))
}

impl Driver {
    /// A driver for `core`, restored or new; `committed` is the newest commit it knew of.
    pub fn new(
        config: &NodeConfig,
        core: Node,
        committed: Option<Commit>,
        storage: Storage,
        transport: Transport,
        metrics: Arc<Metrics>,
        env: &Env,
    ) -> (Driver, NodeHandle, mpsc::Receiver<Command>) {
        let heartbeat = Duration::from_millis(config.heartbeat_ms);
        let failovers = committed
            .iter()
            .flat_map(|c| c.config.history.iter())
            .map(|r| view(r, None, false, None, None))
            .collect();
        let failovers = Arc::new(Mutex::new(failovers));
        let (commands_tx, commands_rx) = mpsc::channel(64);
        let pending_since = None;
        let first = status_of(
            &core,
            heartbeat,
            &BTreeMap::new(),
            committed.as_ref(),
            pending_since,
        );
        let (status_tx, status_rx) = watch::channel(first);
        let mut driver = Driver {
            heartbeat,
            core,
            storage,
            transport,
            metrics: metrics.clone(),
            status: status_tx,
            failovers: failovers.clone(),
            waiters: Vec::new(),
            detected_at: BTreeMap::new(),
            last_heard: BTreeMap::new(),
            blocked: BTreeMap::new(),
            committed,
            pending_since,
            orchestrator_seen: None,
            journal: env.journal.clone(),
            paused: env.paused.clone(),
            lag_gauges: BTreeMap::new(),
        };
        driver.publish();
        let handle = NodeHandle {
            status: status_rx,
            commands: commands_tx,
            metrics,
            failovers,
            heartbeat,
        };
        (driver, handle, commands_rx)
    }

    /// Runs until `stop` resolves or the state cannot be persisted.
    pub async fn run(
        mut self,
        mut net: mpsc::Receiver<NetEvent>,
        mut commands: mpsc::Receiver<Command>,
        stop: impl std::future::Future<Output = ()>,
    ) -> Result<(), Fatal> {
        // Ticks fall on whole multiples of the period on the wall clock, so the nodes of a
        // cluster whose clocks agree send their heartbeats together and each wakes to
        // read many at once, not once per peer. Nothing depends on it but cost: a skewed
        // clock only spreads the heartbeats out again.
        let period = self.heartbeat.as_millis().max(1) as u64;
        let phase = Duration::from_millis(period - unix_ms() % period);
        let mut tick =
            tokio::time::interval_at(tokio::time::Instant::now() + phase, self.heartbeat);
        // After a pause, tick once, not once per missed interval, and keep the phase.
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        tokio::pin!(stop);
        loop {
            if let Some(paused) = self.paused.as_mut() {
                // Stopped: no tick and no input until resumed, as a process under SIGSTOP.
                tokio::select! {
                    biased;
                    _ = &mut stop => return Ok(()),
                    _ = paused.wait_for(|p| !*p) => {}
                }
            }
            tokio::select! {
                // In this order, so that a run is the same run again (a simulation replays it).
                biased;
                _ = &mut stop => return Ok(()),
                _ = tick.tick() => self.on_tick()?,
                Some(command) = commands.recv() => self.on_command(command)?,
                Some(event) = net.recv() => self.on_net(event)?,
            }
        }
    }

    fn on_tick(&mut self) -> Result<(), Fatal> {
        if let Err(e) = self.feed(Input::Tick)? {
            warn!(error = %e, "tick refused by the core");
        }
        let now = Instant::now();
        for (peer, heard) in &self.last_heard {
            let gauge = self.lag_gauges.entry(*peer).or_insert_with(|| {
                self.metrics
                    .heartbeat_lag
                    .get_or_create(&vec![("peer", peer.0.to_string())])
                    .clone()
            });
            gauge.set(now.duration_since(*heard).as_secs_f64());
        }
        Ok(())
    }

    fn on_net(&mut self, event: NetEvent) -> Result<(), Fatal> {
        let input = match event {
            NetEvent::Message { from, msg } => {
                if matches!(msg, failover_core::Message::Heartbeat { .. }) {
                    self.last_heard.insert(from, Instant::now());
                }
                Input::Message { from, msg }
            }
            NetEvent::NodeDown { peer, .. } => Input::NodeDown { peer },
        };
        if let Err(e) = self.feed(input)? {
            warn!(error = %e, "input refused by the core");
        }
        Ok(())
    }

    fn on_command(&mut self, command: Command) -> Result<(), Fatal> {
        let Command::Admin { command, reply } = command;
        match self.feed(Input::Admin(command))? {
            Err(StepError::Admin(refusal)) => {
                let _ = reply.send(Err(refusal.into()));
            }
            Err(e) => warn!(error = %e, "admin command refused by the core"),
            Ok(ready) => match ready.commit {
                Some(commit) if !commit.learned => {
                    let _ = reply.send(Ok(commit.config.revision));
                }
                _ => self.waiters.push(Waiter {
                    revision: self.core.config().revision,
                    term: self.core.leader_term(),
                    reply,
                }),
            },
        }
        Ok(())
    }

    /// One step of the core, carried out in the contract's order: persist, send, report.
    fn feed(&mut self, input: Input) -> Result<Result<Ready, StepError>, Fatal> {
        debug!(target: CORE_TARGET, input = %json(&input), "input");
        let tick = input == Input::Tick;
        let recorded = self.journal.as_ref().map(|_| input.clone());
        let mut ready = match self.core.step(input) {
            Ok(ready) => ready,
            Err(e) => {
                debug!(target: CORE_TARGET, refused = %e, "refused");
                if let (Some(journal), Some(input)) = (&self.journal, recorded) {
                    journal.step(self.record(input, true, None, &[], &Ready::default()));
                }
                return Ok(Err(e));
            }
        };
        let changed = !ready.is_empty();
        let persisted = ready.take_persist();
        if let Some(state) = &persisted {
            debug!(target: CORE_TARGET, persist = %json(state), "persist");
            let started = Instant::now();
            self.storage.save(state)?;
            self.metrics
                .persist_seconds
                .observe(started.elapsed().as_secs_f64());
        }
        let messages = ready.messages().expect("the state was written above");
        if let (Some(journal), Some(input)) = (&self.journal, recorded) {
            journal.step(self.record(input, false, persisted, &messages, &ready));
        }
        for out in messages {
            debug!(target: CORE_TARGET, to = out.to.0, msg = %json(&out.msg), "send");
            self.transport.send(out.to, out.msg);
        }
        for event in &ready.events {
            debug!(target: CORE_TARGET, event = %json(event), "event");
            self.on_event(event);
        }
        if let Some(commit) = &ready.commit {
            debug!(target: CORE_TARGET, commit = %json(commit), "commit");
            self.on_commit(commit);
            self.record_commit(commit);
        }
        self.learn_failovers(&ready);
        self.settle_waiters();
        // A heartbeat that changes nothing shows first at the next tick: most steps are
        // such heartbeats, and building the status for each would be work for nobody.
        if tick || changed {
            self.publish();
        }
        Ok(Ok(ready))
    }

    fn record(
        &self,
        input: Input,
        refused: bool,
        persist: Option<Persistent>,
        sends: &[Outgoing],
        ready: &Ready,
    ) -> StepRecord {
        StepRecord {
            node: self.core.id(),
            at_ms: unix_ms(),
            input,
            refused,
            persist,
            sends: sends.to_vec(),
            events: ready.events.clone(),
            commit: ready.commit.clone(),
        }
    }

    fn on_event(&mut self, event: &Event) {
        match event {
            Event::HealthChanged { peer, health } => {
                info!(peer = peer.0, ?health, "health changed");
                if *health == Health::Failover {
                    self.detected_at.insert(*peer, Instant::now());
                } else {
                    self.detected_at.remove(peer);
                }
                if *health == Health::Up {
                    self.blocked.remove(peer);
                }
            }
            Event::CandidateFor { term } => {
                self.metrics.elections.inc();
                info!(term, "asking for a term");
            }
            Event::Elected { term } => info!(term, "elected orchestrator"),
            Event::SteppedDown { term, newer } => info!(term, newer, "stepped down"),
            Event::Registered => info!("registered the singletons"),
            Event::Released => info!("released the singletons"),
            Event::RegistrationDropped { peer } => {
                info!(peer = peer.0, "registration dropped by nodedown")
            }
            Event::FailoverCommitted(record) => {
                self.metrics.failovers_committed.inc();
                info!(
                    node = record.node.0,
                    term = record.term,
                    revision = record.revision,
                    "failover committed"
                );
            }
            Event::FailoverBlocked { node, reason } => {
                let reason = reason.to_string();
                if self.blocked.get(node) != Some(&reason) {
                    info!(node = node.0, %reason, "failover blocked");
                    self.blocked.insert(*node, reason);
                }
            }
            Event::PreVoting { term } => debug!(term, "asking whether a majority would vote"),
            Event::LostQuorum { term } => {
                warn!(term, "no longer hears a majority: giving up office")
            }
            Event::ConflictingConfig {
                from,
                term,
                revision,
            } => warn!(
                peer = from.0,
                term, revision, "refused a different config for the same term and revision"
            ),
            Event::Rejoining { boot } => debug!(boot, "asking to be readmitted on a new disk"),
            Event::Rejoined { boot } => info!(boot, "readmitted on a new disk"),
            _ => {}
        }
    }

    fn on_commit(&mut self, commit: &Commit) {
        if commit.learned {
            let known = self.committed.as_ref().map(|c| &c.config.history);
            for record in &commit.config.history {
                if known.is_none_or(|h| !h.contains(record)) {
                    info!(
                        node = record.node.0,
                        term = record.term,
                        revision = record.revision,
                        issuer = record.issuer.0,
                        "learned a committed failover"
                    );
                }
            }
            debug!(
                revision = commit.config.revision,
                term = commit.term,
                from = commit.by.0,
                "learned a commit"
            );
            return;
        }
        info!(
            revision = commit.config.revision,
            term = commit.term,
            "config committed"
        );
        // Only this node's own commits in the waiter's term answer a waiter.
        let revision = commit.config.revision;
        for waiter in std::mem::take(&mut self.waiters) {
            if waiter.revision <= revision && waiter.term == Some(commit.term) {
                let _ = waiter.reply.send(Ok(waiter.revision));
            } else {
                self.waiters.push(waiter);
            }
        }
    }

    /// Records failovers of a config this node knows to be committed (its own commit, or
    /// one a peer's commit confirmed), with when and how fast. Proposals do not count.
    fn learn_failovers(&mut self, ready: &Ready) {
        let Some(commit) = &ready.commit else {
            return;
        };
        // A late message can carry an older commit: the list follows only newer ones.
        let older = self
            .committed
            .as_ref()
            .is_some_and(|known| commit.config.revision < known.config.revision);
        if older {
            return;
        }
        let committed = &commit.config;
        let mut views = self.failovers.lock().unwrap();
        let now = Instant::now();
        let committed_here = |r: &FailoverRecord| {
            ready
                .events
                .iter()
                .any(|e| matches!(e, Event::FailoverCommitted(c) if c == r))
        };
        let since = |at: Option<&Instant>| at.map(|at| now.duration_since(*at).as_millis() as u64);
        // The committed history is the truth: a record this node only had as a proposal
        // before a restart goes if the commit does not hold it.
        let mirrored = committed
            .history
            .iter()
            .map(|record| {
                let known = views.iter().find(|v| {
                    (v.node, v.term, v.revision) == (record.node.0, record.term, record.revision)
                });
                match known {
                    Some(v) => v.clone(),
                    None => {
                        let here = committed_here(record);
                        let silence = since(self.last_heard.get(&record.node));
                        if let Some(ms) = silence {
                            self.metrics.silence_to_learned.observe(ms as f64 / 1000.0);
                        }
                        let (detection, silence) = if here {
                            let detection = since(self.detected_at.get(&record.node));
                            if let Some(ms) = detection {
                                self.metrics.detection_to_commit.observe(ms as f64 / 1000.0);
                            }
                            (detection, silence)
                        } else {
                            (None, None)
                        };
                        view(record, Some(unix_ms()), here, detection, silence)
                    }
                }
            })
            .collect();
        *views = mirrored;
    }

    fn settle_waiters(&mut self) {
        let term = self.core.leader_term();
        for waiter in std::mem::take(&mut self.waiters) {
            if waiter.term.is_some() && waiter.term != term {
                let _ = waiter.reply.send(Err(AdminError::LostLeadership));
            } else {
                self.waiters.push(waiter);
            }
        }
    }

    fn publish(&mut self) {
        let held = self.core.config();
        self.pending_since = match self.pending_since {
            _ if !is_pending(held, self.committed.as_ref()) => None,
            Some((term, revision, since))
                if (term, revision) == (self.core.persistent().accepted_term(), held.revision) =>
            {
                Some((term, revision, since))
            }
            _ => Some((
                self.core.persistent().accepted_term(),
                held.revision,
                Instant::now(),
            )),
        };
        let status = status_of(
            &self.core,
            self.heartbeat,
            &self.last_heard,
            self.committed.as_ref(),
            self.pending_since,
        );
        if status.orchestrator != self.orchestrator_seen {
            info!(
                from = ?self.orchestrator_seen,
                to = ?status.orchestrator,
                term = status.term,
                "orchestrator changed"
            );
            self.orchestrator_seen = status.orchestrator;
        }
        self.metrics.term.set(status.term as i64);
        self.metrics
            .is_orchestrator
            .set(status.is_orchestrator as i64);
        if let Some(config) = &status.committed {
            self.metrics.revision.set(config.revision as i64);
            self.metrics
                .failover_count
                .set(config.failover_count as i64);
        }
        self.metrics.pending_age.set(
            self.pending_since
                .map_or(0.0, |(_, _, since)| since.elapsed().as_secs_f64()),
        );
        self.status.send_if_modified(|old| {
            let changed = *old != status;
            *old = status;
            changed
        });
    }

    /// Records `commit` if it is newer than the newest known; a restart reads it back.
    fn record_commit(&mut self, commit: &Commit) {
        let newer = self
            .committed
            .as_ref()
            .is_none_or(|known| commit.config.revision > known.config.revision);
        if !newer {
            return;
        }
        // Only a report: if it cannot be written, a restart shows an older committed
        // config, which is still a committed one.
        if let Err(e) = self.storage.save_committed(commit) {
            warn!(error = %e, "cannot record the newest commit; a restart will show an older one");
        }
        self.committed = Some(commit.clone());
    }
}

/// Whether `held` is newer than every config known committed.
fn is_pending(held: &ClusterConfig, committed: Option<&Commit>) -> bool {
    committed.is_none_or(|c| held.revision > c.config.revision)
}

fn view(
    r: &FailoverRecord,
    seen_at_ms: Option<u64>,
    committed_here: bool,
    detection_to_commit_ms: Option<u64>,
    silence_to_commit_ms: Option<u64>,
) -> FailoverView {
    FailoverView {
        node: r.node.0,
        term: r.term,
        revision: r.revision,
        issuer: r.issuer.0,
        quota_epoch: r.quota_epoch,
        seen_at_ms,
        committed_here,
        detection_to_commit_ms,
        silence_to_commit_ms,
    }
}

fn status_of(
    core: &Node,
    heartbeat: Duration,
    last_heard: &BTreeMap<NodeId, Instant>,
    committed: Option<&Commit>,
    pending_since: Option<(Term, Revision, Instant)>,
) -> Status {
    let held = core.config();
    let params = core.params();
    let is_orchestrator = core.is_orchestrator();
    let role = match (core.role(), is_orchestrator) {
        (_, true) => "orchestrator",
        (Role::Candidate(_), false) => "candidate",
        _ => "follower",
    };
    let now = Instant::now();
    // Detection runs on the held config's settings; memberships shown are committed ones.
    let threshold = held.settings.timeout_ticks.max(1);
    let shown = committed.map_or(&**held, |c| &*c.config);
    let membership = |node: NodeId| {
        shown
            .membership
            .get(&node)
            .copied()
            .unwrap_or(Membership::FailedOver)
    };
    let peers = params
        .peers()
        .map(|peer| PeerView {
            id: peer.0,
            membership: membership(peer),
            health: core.state().detector().health(peer, threshold),
            down_ticks: core.down_ticks(peer),
            last_heard_ms: last_heard
                .get(&peer)
                .map(|at| now.duration_since(*at).as_millis() as u64),
        })
        .collect();
    let heartbeat_ms = heartbeat.as_millis() as u64;
    let committed_view = committed.map(|c| config_view(&c.config, c.term, params.id, heartbeat_ms));
    let pending =
        pending_since
            .filter(|_| is_pending(held, committed))
            .map(|(term, revision, since)| PendingView {
                revision,
                term,
                age_ms: since.elapsed().as_millis() as u64,
                failing_over: held
                    .history
                    .iter()
                    .filter(|r| committed.is_none_or(|c| !c.config.history.contains(r)))
                    .map(|r| r.node.0)
                    .collect(),
            });
    Status {
        id: params.id.0,
        pid: std::process::id(),
        design: params.design,
        role: role.to_string(),
        is_orchestrator,
        master: core.master().0,
        orchestrator: core.orchestrator().map(|n| n.0),
        term: core.term(),
        committed: committed_view,
        pending,
        rejoining: core.persistent().rejoining(),
        peers,
    }
}

fn config_view(config: &ClusterConfig, term: Term, me: NodeId, heartbeat_ms: u64) -> ConfigView {
    ConfigView {
        revision: config.revision,
        term,
        membership: config
            .membership
            .get(&me)
            .copied()
            .unwrap_or(Membership::FailedOver),
        failover_count: config.failover_count,
        max_count: config.settings.max_count,
        enabled: config.settings.enabled,
        timeout_ms: u64::from(config.settings.timeout_ticks) * heartbeat_ms,
        can_abort_rebalance: config.settings.can_abort_rebalance,
        rebalance: config.rebalance.map(|r| RebalanceView {
            runner: r.runner.0,
            term: r.term,
            done: r.done,
            steps: r.steps,
        }),
        map_version: config.map_version,
        failed_over: config.history.iter().map(|r| r.node.0).collect(),
    }
}

/// Logs a fatal error in the driver's words.
pub fn report_fatal(e: &Fatal) {
    error!(error = %e, "stopping: state could not be persisted");
}
