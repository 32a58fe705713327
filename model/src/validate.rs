//! Recorded runs of the real node checked against the model: is what the nodes did a
//! behaviour of the model?
//!
//! A run is the journal of every node ([`failover_core::Entry`]: each start and each core
//! step with its input and outputs), in one global order — the simulation's, or, for the
//! journals of real processes, a causal merge ([`merge`]: a message is received only
//! after it was sent; otherwise by wall clock). [`validate`] replays that order through
//! the model, one model [`Action`] per recorded fact, each of which must be one the
//! model offers in that state ([`stateright::Model::actions`]) and must lead the model's
//! copy of the node to exactly the recorded outputs; every `always` property of the model
//! is judged on every state on the way. The model runs `async` with heartbeats as
//! messages, the `unordered` network, a fresh start, and the run's own parameters.
//!
//! How recorded facts become model actions:
//! - a node's first start: it must be a bootstrap equal to the model's fresh node; a later
//!   start is an unclean shutdown (the crash is not recorded) and a restart from the
//!   model's copy of its disk, after a disk loss if it came back blank (the recorded disk
//!   identity replaces the model's own choice: any identity not used before is alike);
//! - a tick: `Tick`, with the peers whose heartbeats arrived since the last one;
//! - a message: `Deliver` of a copy in flight (`Duplicate`, which keeps it in flight,
//!   if the same message arrives again later); a message the run never delivers is lost
//!   (`Lose`) as soon as nothing later receives it;
//! - a `nodedown`: the model's notice, or, where the model has none (the connection broke
//!   while the peer ran: a pause, a partition, a slow link), a `Pause` and `Resume` of the
//!   peer, which is how the model tells peers of a silence;
//! - an admin command: `Admin` of the same kind (start or stop a rebalance, reset the
//!   count, switch auto-failover or `canAbortRebalance`), with the recorded values in
//!   place of the model's toggles and `--rebalance-steps`;
//! - then `Persist` and `Send` of what the step wrote and sent.
//!
//! Budgets are the search's bounds, not behaviour: a replay has none.

use crate::model::FailoverModel;
use crate::setup::{Bounds, Heartbeats, NetworkMode, Nodedowns, Setup, Start, Timing};
use crate::state::{describe_message, Action, AdminKind, Envelope, Notice, Pending, State, Status};
use failover_core::{
    AdminCommand, Entry, Input, Message, Node, NodeId, Params, StartKind, StartRecord, StepRecord,
};
use stateright::{Expectation, Model};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// Where a run stops being a behaviour of the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// Index of the entry in the run's order.
    pub index: usize,
    /// Its node.
    pub node: NodeId,
    /// The entry, in words.
    pub entry: String,
    /// Why the model does not allow it.
    pub why: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "entry {} ({} {}): {}",
            self.index, self.node, self.entry, self.why
        )
    }
}

/// A run that is a behaviour of the model, in figures.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Replay {
    /// Entries replayed.
    pub entries: usize,
    /// Model actions taken.
    pub actions: usize,
    /// Starts after a node's first (an unclean shutdown and a restart).
    pub restarts: usize,
    /// Of the restarts, those after a lost disk.
    pub disk_losses: usize,
    /// Messages delivered (`Deliver` or `Duplicate`).
    pub deliveries: usize,
    /// Messages sent but never delivered (`Lose`).
    pub losses: usize,
    /// Deliveries of a message again (`Duplicate`).
    pub duplicates: usize,
    /// `nodedown`s without a notice of the model, explained by a pause of the peer.
    pub silences: usize,
    /// Admin commands.
    pub admin: usize,
    /// Steps the core refused (nothing changed, in the model too).
    pub refused: usize,
}

/// The verdict on a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A behaviour of the model, and no property is broken.
    Valid(Replay),
    /// A behaviour of the model up to `at`, where the named `always` property breaks.
    Violates {
        /// The property.
        property: &'static str,
        /// The entry after which it first failed.
        at: usize,
        /// How far the replay got.
        replay: Replay,
    },
    /// Not a behaviour of the model.
    Mismatch(Mismatch, Replay),
}

/// A journal that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A file or directory could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// What.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A line is not a journal entry.
    #[error("{path}:{line}: not a journal entry: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The line, from 1.
        line: usize,
        /// Why.
        source: serde_json::Error,
    },
    /// A directory without journals.
    #[error("{0}: no journal (*.jsonl) in it")]
    Empty(PathBuf),
}

/// Reads the journals at `path`: one file (one journal, in its order), or every `*.jsonl`
/// file of a directory (one per node, or one in a global order), sorted by name.
pub fn load(path: &Path) -> Result<Vec<Vec<Entry>>, LoadError> {
    let io = |source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    };
    if !path.is_dir() {
        return Ok(vec![load_file(path)?]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(LoadError::Empty(path.to_path_buf()));
    }
    files.iter().map(|f| load_file(f)).collect()
}

fn load_file(path: &Path) -> Result<Vec<Entry>, LoadError> {
    let file = std::fs::File::open(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut entries = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|source| LoadError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let entry = serde_json::from_str(&line).map_err(|source| LoadError::Parse {
            path: path.to_path_buf(),
            line: i + 1,
            source,
        })?;
        entries.push(entry);
    }
    Ok(entries)
}

/// A message on one link, as a key of the lookahead.
type Key = (NodeId, NodeId, Message);

fn received(entry: &Entry) -> Option<Key> {
    match entry {
        Entry::Step(StepRecord {
            node,
            input: Input::Message { from, msg },
            ..
        }) => Some((*from, *node, msg.clone())),
        _ => None,
    }
}

/// Merges the journals of several nodes (each in its node's order) into one order in
/// which every message is received after it was sent (to that incarnation of the
/// receiver); among the entries that may come next, the earliest by wall clock. Fails at
/// the first entry that can never come: a message nobody sent before it.
pub fn merge(journals: Vec<Vec<Entry>>) -> Result<Vec<Entry>, Mismatch> {
    if journals.len() == 1 {
        return Ok(journals.into_iter().next().unwrap_or_default());
    }
    let mut next = vec![0usize; journals.len()];
    let mut sent: HashSet<Key> = HashSet::new();
    let total = journals.iter().map(Vec::len).sum();
    let mut out = Vec::with_capacity(total);
    while out.len() < total {
        let ready = (0..journals.len())
            .filter(|j| next[*j] < journals[*j].len())
            .filter(|j| received(&journals[*j][next[*j]]).is_none_or(|k| sent.contains(&k)))
            .min_by_key(|j| (journals[*j][next[*j]].at_ms(), *j));
        let Some(j) = ready else {
            let (j, entry) = (0..journals.len())
                .filter(|j| next[*j] < journals[*j].len())
                .map(|j| (j, &journals[j][next[j]]))
                .min_by_key(|(_, e)| e.at_ms())
                .expect("an entry is left");
            return Err(Mismatch {
                index: out.len(),
                node: entry.node(),
                entry: describe(entry),
                why: format!(
                    "no node sent this message before (journal {j}, entry {})",
                    next[j]
                ),
            });
        };
        let entry = journals[j][next[j]].clone();
        next[j] += 1;
        match &entry {
            Entry::Start(start) => sent.retain(|(_, dst, _)| *dst != start.node),
            Entry::Step(step) => {
                for out in &step.sends {
                    sent.insert((step.node, out.to, out.msg.clone()));
                }
            }
        }
        out.push(entry);
    }
    Ok(out)
}

/// The entry in words.
pub fn describe(entry: &Entry) -> String {
    match entry {
        Entry::Start(s) => format!("starts ({:?})", s.kind).to_lowercase(),
        Entry::Step(s) => match &s.input {
            Input::Tick => "ticks".into(),
            Input::Message { from, msg } => {
                format!("receives {} from {from}", describe_message(msg))
            }
            Input::NodeDown { peer } => format!("hears nodedown of {peer}"),
            Input::Admin(c) => format!("gets admin command {c:?}"),
            other => format!("gets {other:?}"),
        },
    }
}

/// The model a run is replayed through: the run's members, parameters and initial
/// settings, `async`, heartbeats as messages, `unordered`, from empty disks, no budget.
pub fn model_of(entries: &[Entry]) -> Result<FailoverModel, String> {
    let mut firsts: BTreeMap<NodeId, &StartRecord> = BTreeMap::new();
    for entry in entries {
        if let Entry::Start(s) = entry {
            firsts.entry(s.node).or_insert(s);
        }
    }
    let Some(first) = firsts.values().next() else {
        return Err("the run has no start: a journal begins with its node's start".into());
    };
    let members: Vec<NodeId> = first.params.members.keys().copied().collect();
    if firsts.keys().copied().collect::<Vec<_>>() != members {
        return Err(format!(
            "the run starts {:?} but the members are {members:?}: every member's journal is needed",
            firsts.keys().collect::<Vec<_>>()
        ));
    }
    if members.len() > 64 {
        return Err(format!(
            "{} members: the model keeps sets of nodes in 64-bit masks",
            members.len()
        ));
    }
    if members.windows(2).any(|w| w[1].0 != w[0].0 + 1) {
        return Err(format!("member ids must be consecutive: {members:?}"));
    }
    let settings = first.persistent.config().settings;
    let params: Vec<Params> = firsts.values().map(|s| s.params.clone()).collect();
    let p = &first.params;
    // Open budgets (the replay keeps what it spent at most 1); small enough that the
    // model's sums of them do not overflow.
    let max = 50;
    let mut setup = Setup::new(p.design, members.len() as u16, Timing::Async);
    setup.start = Start::Fresh;
    setup.network = NetworkMode::Unordered;
    setup.heartbeats = Heartbeats::Messages;
    // A recorded nodedown is replayed as the delivery of a queued one.
    setup.nodedowns = Nodedowns::Queued;
    setup.link_capacity = u8::MAX;
    setup.bounds = Bounds {
        clean_shutdowns: max,
        unclean_shutdowns: max,
        restarts: max,
        disk_losses: max,
        pauses: max,
        losses: max,
        duplicates: max,
        link_drops: 0,
        late_heartbeats: 0,
        partitions: 0,
        one_way_cuts: 0,
        rebalances: max,
        quota_resets: max,
        settings_changes: max,
    };
    setup.max_term = u32::MAX;
    setup.max_revision = u32::MAX;
    setup.timeout_ticks = settings.timeout_ticks;
    setup.master_ticks = p.master_ticks;
    setup.tolerated_misses = p.tolerated_misses;
    setup.max_count = settings.max_count;
    setup.can_abort_rebalance = settings.can_abort_rebalance;
    Ok(FailoverModel::with_params(setup, params, settings))
}

/// Replays `entries` (one global order) through the model.
pub fn validate(entries: &[Entry]) -> Verdict {
    let mut replay = Replay::default();
    let model = match model_of(entries) {
        Ok(model) => model,
        Err(why) => {
            let node = entries.first().map_or(NodeId(0), Entry::node);
            let entry = entries.first().map_or("nothing".into(), describe);
            let index = 0;
            return Verdict::Mismatch(
                Mismatch {
                    index,
                    node,
                    entry,
                    why,
                },
                replay,
            );
        }
    };
    let mut replayer = Replayer::new(&model, entries);
    for (index, entry) in entries.iter().enumerate() {
        let result = match entry {
            Entry::Start(start) => replayer.start(start, &mut replay),
            Entry::Step(step) => replayer.step(index, step, &mut replay),
        };
        replay.entries = index + 1;
        let mismatch = |why| Mismatch {
            index,
            node: entry.node(),
            entry: describe(entry),
            why,
        };
        match result {
            Err(Stop::Mismatch(why)) => return Verdict::Mismatch(mismatch(why), replay),
            Err(Stop::Violates(property)) => {
                return Verdict::Violates {
                    property,
                    at: index,
                    replay,
                }
            }
            Ok(()) => {}
        }
        if let Err(Stop::Violates(property)) = replayer.lose_the_undelivered(index, &mut replay) {
            return Verdict::Violates {
                property,
                at: index,
                replay,
            };
        }
    }
    Verdict::Valid(replay)
}

enum Stop {
    Mismatch(String),
    Violates(&'static str),
}

struct Replayer<'m> {
    model: &'m FailoverModel,
    state: State,
    properties: Vec<stateright::Property<FailoverModel>>,
    started: HashSet<NodeId>,
    /// For each message, the index of the last entry that receives it.
    last_receipt: HashMap<Key, usize>,
}

impl<'m> Replayer<'m> {
    fn new(model: &'m FailoverModel, entries: &[Entry]) -> Self {
        let mut last_receipt = HashMap::new();
        for (i, entry) in entries.iter().enumerate() {
            if let Some(key) = received(entry) {
                last_receipt.insert(key, i);
            }
        }
        let properties = model
            .properties()
            .into_iter()
            .filter(|p| p.expectation == Expectation::Always)
            .collect();
        Replayer {
            model,
            state: model.init_states().remove(0),
            properties,
            started: HashSet::new(),
            last_receipt,
        }
    }

    /// Takes `action`, which the model must offer now.
    fn act(&mut self, action: Action, replay: &mut Replay) -> Result<(), Stop> {
        let mut offered = Vec::new();
        self.model.actions(&self.state, &mut offered);
        if !offered.contains(&action) {
            return Err(Stop::Mismatch(format!(
                "the model does not offer {action:?} here"
            )));
        }
        let next = self
            .model
            .next_state(&self.state, action.clone())
            .ok_or_else(|| Stop::Mismatch(format!("the model refuses {action:?}")))?;
        self.advance(next, replay)
    }

    /// Moves to `next`, judging every `always` property there.
    fn advance(&mut self, mut next: State, replay: &mut Replay) -> Result<(), Stop> {
        // Budgets bound a search, not a behaviour: keep every one open, and the ones the
        // model reads as "happened before" (a rebalance was started) set.
        let s = &mut next.spent;
        for counter in [
            &mut s.clean_shutdowns,
            &mut s.unclean_shutdowns,
            &mut s.restarts,
            &mut s.disk_losses,
            &mut s.pauses,
            &mut s.losses,
            &mut s.duplicates,
            &mut s.rebalances,
            &mut s.quota_resets,
            &mut s.settings_changes,
        ] {
            *counter = (*counter).min(1);
        }
        self.state = next;
        replay.actions += 1;
        match self
            .properties
            .iter()
            .find(|p| !(p.condition)(self.model, &self.state))
        {
            Some(p) => Err(Stop::Violates(p.name)),
            None => Ok(()),
        }
    }

    fn start(&mut self, start: &StartRecord, replay: &mut Replay) -> Result<(), Stop> {
        let node = start.node;
        let mismatch = |why: String| Err(Stop::Mismatch(why));
        if self.state.nodes.iter().all(|s| s.node.id() != node) {
            return mismatch(format!("{node} is not a member"));
        }
        if self.model.params[self.model.at(node)].as_ref() != &start.params {
            return mismatch("it starts with other parameters than its first start".into());
        }
        if self.started.insert(node) {
            if start.kind != StartKind::Bootstrap {
                return mismatch(format!(
                    "its first start is {:?}: the journal must begin with the cluster (a bootstrap)",
                    start.kind
                ));
            }
            if self.state.slot(node).node.persistent() != &start.persistent {
                return mismatch("it bootstraps a state other than the model's first one".into());
            }
            return Ok(());
        }
        if start.kind == StartKind::Bootstrap {
            return mismatch("a member of a running cluster bootstraps again".into());
        }
        if matches!(
            self.state.slot(node).status,
            Status::Running | Status::Paused
        ) {
            self.act(Action::Shutdown { node, clean: false }, replay)?;
        }
        replay.restarts += 1;
        if start.kind == StartKind::Rejoin {
            let old = self.state.slot(node).disk.boot();
            if !start.persistent.rejoining() || start.persistent.boot() == old {
                return mismatch("it rejoins without a blank state on a new disk identity".into());
            }
            self.act(Action::LoseDisk(node), replay)?;
            let settings = start.persistent.config().settings;
            let params = self.model.params[self.model.at(node)].clone();
            let blank = Node::rejoin(params, settings, start.persistent.boot());
            if blank.persistent() != &start.persistent {
                return mismatch("its blank state is not what a rejoining node writes".into());
            }
            let at = self.model.at(node);
            self.state.nodes[at].disk = start.persistent.clone();
            replay.disk_losses += 1;
        }
        self.act(Action::Restart(node), replay)?;
        if self.state.slot(node).node.persistent() != &start.persistent {
            return mismatch(
                "it restarts from a state its disk never held (the model restarts from the last state written)"
                    .into(),
            );
        }
        Ok(())
    }

    fn step(&mut self, index: usize, step: &StepRecord, replay: &mut Replay) -> Result<(), Stop> {
        let node = step.node;
        if !self.started.contains(&node) {
            return Err(Stop::Mismatch("it steps before it started".into()));
        }
        if let Input::Message { from, msg } = &step.input {
            let envelope = Envelope {
                src: *from,
                dst: node,
                msg: msg.clone(),
            };
            if !self.state.network.all().contains(&envelope) {
                return Err(Stop::Mismatch(
                    "this message is not in flight: nobody sent it to this node since it started, or it was taken before"
                        .into(),
                ));
            }
        }
        // What the model's copy of the node does with the input.
        let mut copy = self.state.slot(node).node.clone();
        let predicted = copy.step(step.input.clone());
        match (&predicted, step.refused) {
            (Err(_), true) => {
                // Refused in both: nothing changed, nothing to take.
                replay.refused += 1;
                return Ok(());
            }
            (Err(e), false) => {
                return Err(Stop::Mismatch(format!(
                    "the model's node refuses it ({e}), the record says it was taken"
                )))
            }
            (Ok(_), true) => {
                return Err(Stop::Mismatch(
                    "the record says it was refused, the model's node takes it".into(),
                ))
            }
            (Ok(_), false) => {}
        }
        let mut ready = predicted.unwrap_or_default();
        let persist = ready.take_persist();
        if persist != step.persist {
            return Err(Stop::Mismatch(format!(
                "it persists {}, the model's node {}",
                what(step.persist.is_some()),
                what(persist.is_some())
            )));
        }
        let sends = ready.messages().unwrap_or_default();
        if sends != step.sends {
            return Err(Stop::Mismatch(format!(
                "it sends {} messages, the model's node {} ({})",
                step.sends.len(),
                sends.len(),
                first_difference(&step.sends, &sends)
            )));
        }
        if ready.events != step.events {
            return Err(Stop::Mismatch(format!(
                "it reports events {:?}, the model's node {:?}",
                step.events, ready.events
            )));
        }
        if ready.commit != step.commit {
            return Err(Stop::Mismatch(format!(
                "it reports the commit {:?}, the model's node {:?}",
                step.commit.as_ref().map(|c| (c.term, c.config.revision)),
                ready.commit.as_ref().map(|c| (c.term, c.config.revision))
            )));
        }
        // The model's action for the input.
        match &step.input {
            Input::Tick => {
                let heard = self.model.heard_since_tick(&self.state, node);
                self.act(Action::Tick { node, heard }, replay)?;
            }
            Input::Message { from, msg } => {
                let envelope = Envelope {
                    src: *from,
                    dst: node,
                    msg: msg.clone(),
                };
                let key = (*from, node, msg.clone());
                let again = self
                    .last_receipt
                    .get(&key)
                    .is_some_and(|last| *last > index);
                replay.deliveries += 1;
                if again {
                    replay.duplicates += 1;
                    self.act(Action::Duplicate(envelope), replay)?;
                } else {
                    self.act(Action::Deliver(envelope), replay)?;
                }
            }
            Input::NodeDown { peer } => {
                let notice = Notice {
                    due: 0,
                    to: node,
                    about: *peer,
                };
                if !self.state.notices.contains(&notice) {
                    if self.state.slot(*peer).status != Status::Running {
                        return Err(Stop::Mismatch(format!(
                            "nodedown of {peer}, which the model holds down without telling {node}"
                        )));
                    }
                    replay.silences += 1;
                    self.act(Action::Pause(*peer), replay)?;
                    self.act(Action::Resume(*peer), replay)?;
                }
                self.act(Action::NodeDown(notice), replay)?;
            }
            Input::Admin(command) => {
                let kind = admin_kind(command).ok_or_else(|| {
                    Stop::Mismatch(format!("the model's administrator never gives {command:?}"))
                })?;
                let mut offered = Vec::new();
                self.model.actions(&self.state, &mut offered);
                if !offered.contains(&Action::Admin(node, kind)) {
                    return Err(Stop::Mismatch(format!(
                        "the model offers no {kind:?} to {node} here"
                    )));
                }
                let mut next = self.state.clone();
                if !self.model.admin(&mut next, node, kind, *command) {
                    return Err(Stop::Mismatch("the model's node refuses it".into()));
                }
                // As `next_state` ends the action (a no-op while a shutdown is left, as
                // in every replay).
                self.model.pay_at_once(&mut next);
                replay.admin += 1;
                self.advance(next, replay)?;
            }
            other => {
                return Err(Stop::Mismatch(format!(
                    "an input the model does not give: {other:?}"
                )))
            }
        }
        // What the step wrote, then what it sent.
        if matches!(self.state.slot(node).pending, Pending::Persist(_)) {
            self.act(Action::Persist(node), replay)?;
        }
        if matches!(self.state.slot(node).pending, Pending::Send(_)) {
            self.act(Action::Send(node), replay)?;
        }
        Ok(())
    }

    /// Loses every message in flight that no later entry receives.
    fn lose_the_undelivered(&mut self, index: usize, replay: &mut Replay) -> Result<(), Stop> {
        let dead: Vec<Envelope> = self
            .state
            .network
            .all()
            .into_iter()
            .filter(|e| {
                let key = (e.src, e.dst, e.msg.clone());
                self.last_receipt
                    .get(&key)
                    .is_none_or(|last| *last <= index)
            })
            .collect();
        for envelope in dead {
            replay.losses += 1;
            self.act(Action::Lose(envelope), replay)?;
        }
        Ok(())
    }
}

fn what(some: bool) -> &'static str {
    if some {
        "a state"
    } else {
        "nothing"
    }
}

fn first_difference(
    recorded: &[failover_core::Outgoing],
    model: &[failover_core::Outgoing],
) -> String {
    for (i, (r, m)) in recorded.iter().zip(model).enumerate() {
        if r != m {
            return format!(
                "message {i}: recorded {} to {}, model {} to {}",
                describe_message(&r.msg),
                r.to,
                describe_message(&m.msg),
                m.to
            );
        }
    }
    "one list is longer".into()
}

/// The kind of the model's admin commands that `command` is, if it is one.
fn admin_kind(command: &AdminCommand) -> Option<AdminKind> {
    match command {
        AdminCommand::StartRebalance { .. } => Some(AdminKind::StartRebalance),
        AdminCommand::StopRebalance => Some(AdminKind::StopRebalance),
        AdminCommand::ResetCount => Some(AdminKind::ResetCount),
        AdminCommand::ChangeSettings(c) => {
            match (
                c.enabled,
                c.can_abort_rebalance,
                c.timeout_ticks,
                c.max_count,
            ) {
                (Some(_), None, None, None) => Some(AdminKind::ToggleEnabled),
                (None, Some(_), None, None) => Some(AdminKind::ToggleAbort),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Validates the journals at `path` (see [`load`] and [`merge`]).
pub fn validate_path(path: &Path) -> Result<Verdict, LoadError> {
    let journals = load(path)?;
    Ok(match merge(journals) {
        Ok(entries) => validate(&entries),
        Err(mismatch) => Verdict::Mismatch(mismatch, Replay::default()),
    })
}
