//! What a simulated run recorded, and the checks of its committed histories. The journal
//! holds every core step of every host in the simulation's one global order; the checks
//! read only what the nodes persisted, sent, proposed and reported, and count majorities
//! themselves, never with the core's code.

use crate::seams::{Entry, Journal, StartRecord, StepRecord};
use failover_core::{ClusterConfig, Design, Event, Input, Message, NodeId, Office, Term};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

/// Every start and step of every host, in the order the simulation ran them.
#[derive(Debug, Default, Clone)]
pub struct Recorder(Arc<Mutex<Vec<Entry>>>);

impl Journal for Recorder {
    fn start(&self, record: StartRecord) {
        self.0.lock().unwrap().push(Entry::Start(record));
    }

    fn step(&self, record: StepRecord) {
        self.0.lock().unwrap().push(Entry::Step(record));
    }
}

impl Recorder {
    /// The steps so far.
    pub fn records(&self) -> Vec<StepRecord> {
        let entries = self.0.lock().unwrap();
        steps(&entries).cloned().collect()
    }

    /// The starts and steps so far.
    pub fn entries(&self) -> Vec<Entry> {
        self.0.lock().unwrap().clone()
    }

    /// How many starts and steps so far.
    pub fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    /// Whether nothing was recorded yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The orchestrator that the nodes' latest heartbeats show: the node whose last tick
    /// announced the highest term it leads (`fenced`), or that holds the singletons.
    pub fn orchestrator(&self, design: Design) -> Option<NodeId> {
        let entries = self.0.lock().unwrap();
        let mut latest: BTreeMap<NodeId, (Term, bool)> = BTreeMap::new();
        for r in steps(&entries).filter(|r| r.input == Input::Tick) {
            for out in &r.sends {
                if let Message::Heartbeat {
                    orchestrator,
                    office,
                    ..
                } = &out.msg
                {
                    let leads = match (design, office) {
                        (Design::Fenced, Office::Leader(t)) => (*t, true),
                        (Design::Fenced, _) => (0, false),
                        (_, _) => (0, *orchestrator),
                    };
                    latest.insert(r.node, leads);
                }
            }
        }
        latest
            .into_iter()
            .filter(|(_, (_, leads))| *leads)
            .max_by_key(|(node, (term, _))| (*term, std::cmp::Reverse(*node)))
            .map(|(node, _)| node)
    }
}

/// The steps among `entries`.
pub fn steps(entries: &[Entry]) -> impl Iterator<Item = &StepRecord> {
    entries.iter().filter_map(|e| match e {
        Entry::Step(step) => Some(step),
        Entry::Start(_) => None,
    })
}

/// A broken property, with when and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The property, in the model's words.
    pub property: &'static str,
    /// Index of the step in the journal where it showed.
    pub step: usize,
    /// Simulated time of that step (ms since the run started).
    pub at_ms: u64,
    /// What happened.
    pub detail: String,
}

/// Safety checks over one run's journal.
pub struct Checks {
    /// Cluster size.
    pub nodes: usize,
    /// The design the nodes ran.
    pub design: Design,
    /// The failover quota (never changed by the schedules).
    pub max_count: u32,
    /// Unix ms of the run's start (journal times are wall-clock).
    pub start_ms: u64,
}

impl Checks {
    fn majority(&self) -> usize {
        self.nodes / 2 + 1
    }

    /// Every violation in `records`, in the order they showed.
    pub fn run(&self, records: &[StepRecord]) -> Vec<Violation> {
        let mut out = Vec::new();
        let mut v = |property: &'static str, i: usize, r: &StepRecord, detail: String| {
            out.push(Violation {
                property,
                step: i,
                at_ms: r.at_ms.saturating_sub(self.start_ms),
                detail,
            })
        };
        // Who persisted which (term, revision, config): a disk that was lost (a new boot)
        // no longer holds what the old one did.
        let mut accepted: BTreeMap<(Term, u32), BTreeMap<NodeId, u64>> = BTreeMap::new();
        let mut boots: BTreeMap<NodeId, u64> = BTreeMap::new();
        let mut promised: BTreeMap<NodeId, Term> = BTreeMap::new();
        // Committed configs by revision (with their digest), and failovers by node.
        let mut committed: BTreeMap<u32, ClusterConfig> = BTreeMap::new();
        let mut failovers: BTreeMap<NodeId, BTreeSet<(Term, u32)>> = BTreeMap::new();
        let mut elected: BTreeMap<Term, NodeId> = BTreeMap::new();
        // Proposals that must never commit: by a deposed orchestrator or a failed-over node.
        let mut suspects: BTreeMap<(Term, u32), (u64, &'static str)> = BTreeMap::new();
        // What each node last reported committed.
        let mut reported: BTreeMap<NodeId, ClusterConfig> = BTreeMap::new();
        for (i, r) in records.iter().enumerate() {
            if let Some(p) = &r.persist {
                if boots.get(&r.node).is_some_and(|b| *b != p.boot()) {
                    for holders in accepted.values_mut() {
                        holders.remove(&r.node);
                    }
                }
                boots.insert(r.node, p.boot());
                let key = (p.accepted_term(), p.config().revision);
                accepted
                    .entry(key)
                    .or_default()
                    .insert(r.node, p.config().digest());
                promised.insert(r.node, p.promised());
            }
            for e in &r.events {
                match e {
                    Event::Elected { term } => {
                        if let Some(other) = elected.insert(*term, r.node) {
                            if other != r.node {
                                v(
                                    "one acting orchestrator per term",
                                    i,
                                    r,
                                    format!("{} and {} both won term {term}", other, r.node),
                                );
                            }
                        }
                    }
                    Event::Proposed { term, revision } if self.design == Design::Fenced => {
                        let deposed = promised.values().filter(|p| *p > term).count();
                        let digest = r.persist.as_ref().map_or(0, |p| p.config().digest());
                        if deposed >= self.majority() {
                            suspects.insert(
                                (*term, *revision),
                                (digest, "no work by a deposed orchestrator"),
                            );
                        }
                        let out = committed
                            .values()
                            .next_back()
                            .is_some_and(|c| !c.is_active(r.node));
                        if out {
                            suspects.insert(
                                (*term, *revision),
                                (digest, "failed-over node changes nothing"),
                            );
                        }
                    }
                    _ => {}
                }
            }
            let Some(commit) = &r.commit else {
                continue;
            };
            let c = &*commit.config;
            let digest = commit.config.digest();
            let key = (commit.term, c.revision);
            let holders = accepted
                .get(&key)
                .map_or(0, |h| h.values().filter(|d| **d == digest).count());
            if holders < self.majority() {
                v(
                    "no commit without a majority",
                    i,
                    r,
                    format!(
                        "{} reports t{} r{} committed, held by {holders} of {} disks",
                        r.node, commit.term, c.revision, self.nodes
                    ),
                );
            }
            if let Some((suspect, property)) = suspects.get(&key) {
                if *suspect == digest {
                    v(
                        property,
                        i,
                        r,
                        format!("t{} r{} was committed", commit.term, c.revision),
                    );
                }
            }
            // One chain: one config per revision, each holding every older failover.
            match committed.get(&c.revision) {
                Some(known) if known != c => v(
                    "committed configs form one chain",
                    i,
                    r,
                    format!("two different configs committed at r{}", c.revision),
                ),
                _ => {}
            }
            let older = committed
                .range(..c.revision)
                .next_back()
                .map(|(_, o)| o.clone());
            let newer = committed
                .range(c.revision + 1..)
                .next()
                .map(|(_, n)| n.clone());
            for (a, b) in [(older.as_ref(), Some(c)), (Some(c), newer.as_ref())] {
                if let (Some(a), Some(b)) = (a, b) {
                    if !b.history.starts_with(&a.history) || b.map_version < a.map_version {
                        v(
                            "committed configs form one chain",
                            i,
                            r,
                            format!("r{} does not extend r{}", b.revision, a.revision),
                        );
                    }
                }
            }
            // The failover rules, judged against the committed config it builds on.
            let mut seen = BTreeSet::new();
            for rec in &c.history {
                if !seen.insert(rec.node) {
                    v(
                        "at most one failover per node",
                        i,
                        r,
                        format!("{} twice in r{}", rec.node, c.revision),
                    );
                }
                let records = failovers.entry(rec.node).or_default();
                records.insert((rec.term, rec.revision));
                if records.len() > 1 {
                    v(
                        "at most one failover per node",
                        i,
                        r,
                        format!("{} failed over in {records:?}", rec.node),
                    );
                }
            }
            let mut per_epoch: BTreeMap<u32, u32> = BTreeMap::new();
            for rec in &c.history {
                *per_epoch.entry(rec.quota_epoch).or_default() += 1;
            }
            if per_epoch.values().any(|n| *n > self.max_count) {
                v(
                    "failover quota respected",
                    i,
                    r,
                    format!("r{}: {per_epoch:?} per quota period", c.revision),
                );
            }
            let fresh = c.history.iter().filter(|rec| rec.revision == c.revision);
            if let Some(base) = committed.get(&(c.revision - 1)) {
                for rec in fresh {
                    if !base.settings.enabled {
                        v(
                            "no failover while switched off",
                            i,
                            r,
                            format!("{} in r{}", rec.node, c.revision),
                        );
                    }
                    let blocking = base.rebalance.is_some_and(|rb| {
                        rb.runner != rec.node && !base.settings.can_abort_rebalance
                    });
                    if blocking || (base.rebalance.is_some() && c.rebalance.is_some()) {
                        v(
                            "no failover during rebalance",
                            i,
                            r,
                            format!("{} in r{}", rec.node, c.revision),
                        );
                    }
                }
            }
            committed.insert(c.revision, c.clone());
            // Each node's own reports extend one another.
            if let Some(before) = reported.get(&r.node) {
                if before.revision < c.revision && !c.history.starts_with(&before.history) {
                    v(
                        "every host's history a prefix of the longest",
                        i,
                        r,
                        format!(
                            "{}: r{} drops failovers of r{}",
                            r.node, c.revision, before.revision
                        ),
                    );
                }
            }
            if reported
                .get(&r.node)
                .is_none_or(|b| b.revision < c.revision)
            {
                reported.insert(r.node, c.clone());
            }
        }
        // Every host's newest commit is a prefix of the longest history.
        if let Some(longest) = committed.values().next_back() {
            for (node, c) in &reported {
                if !longest.history.starts_with(&c.history) {
                    out.push(Violation {
                        property: "every host's history a prefix of the longest",
                        step: records.len(),
                        at_ms: 0,
                        detail: format!(
                            "{node} at r{} is not a prefix of r{}",
                            c.revision, longest.revision
                        ),
                    });
                }
            }
        }
        out
    }
}
