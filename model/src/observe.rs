//! The observer: facts only someone who sees the whole run knows, kept in [`Ghost`] and
//! read by the properties. They are computed here from what the world does (disks written,
//! messages sent, heartbeats heard, commits reported), never with the core's own quorum or
//! rule code, so that a core with a wrong rule cannot lower the bar it is judged by.

use crate::cached::Cached;
use crate::model::FailoverModel;
use crate::state::{Cut, Pending, State, Status};
use failover_core::config::SharedConfig;
use failover_core::{
    Blocked, ClusterConfig, Commit, Event, FailoverRecord, Message, NodeId, Persistent, Ready,
    Revision, Term,
};
use std::collections::{BTreeMap, BTreeSet};

/// `(term, revision)`: where a config sits in the order of configs.
pub type Slot = (Term, Revision);

/// Which disks hold one config.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Acceptance {
    /// Which config.
    pub digest: u64,
    /// Bit `i` set: node `i` persisted it.
    pub by: u64,
}

/// What was wrong with a proposal when it was made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Suspect {
    /// A majority had already promised a newer term.
    pub deposed: bool,
    /// Its author's failover was already committed.
    pub failed_over: bool,
}

/// Violations seen so far; each `always` property reads one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Violations {
    /// A commit was reported that is not on a majority of disks.
    pub without_majority: bool,
    /// Two committed configs are not on one chain.
    pub not_one_chain: bool,
    /// Two different configs were accepted for one term and revision.
    pub two_configs_in_a_slot: bool,
    /// Two nodes proposed in one term.
    pub two_proposers_in_a_term: bool,
    /// A failover was committed while another node's live rebalance ran (not aborted).
    pub during_rebalance: bool,
    /// A failover was committed while auto-failover was off.
    pub while_disabled: bool,
    /// A change proposed after a majority moved to a newer term was committed.
    pub deposed_work: bool,
    /// A change proposed by a failed-over node was committed.
    pub failed_over_acted: bool,
    /// A message claimed more than its sender's disk held.
    pub beyond_disk: bool,
    /// A failover was decided before its issuer missed the target for the timeout.
    pub premature: bool,
    /// A healthy orchestrator (never cut off, paused or down) was replaced.
    pub healthy_orchestrator_replaced: bool,
}

/// Scenarios seen so far; each `sometimes` property reads one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Witnesses {
    /// A failover was refused because a rebalance ran.
    pub blocked_by_rebalance: bool,
    /// A failover was refused because the quota was spent.
    pub blocked_by_quota: bool,
    /// A paused orchestrator resumed after it had been failed over.
    pub fenced_resumed: bool,
    /// A deposed node proposed a change (which must never commit).
    pub deposed_proposed: bool,
    /// A committed rebalance step moved data.
    pub data_moved: bool,
    /// A failover aborted a live rebalance.
    pub rebalance_aborted: bool,
    /// A new orchestrator ended a rebalance of an older term.
    pub orphan_rebalance_ended: bool,
    /// An orchestrator that went deaf was replaced.
    pub deaf_orchestrator_replaced: bool,
    /// A node that lost its disk was readmitted.
    pub rejoined: bool,
}

/// A lost node whose failover the `timed` properties wait for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Watch {
    /// The lost node.
    pub node: NodeId,
    /// By when it must be failed over (moved on while a live rebalance blocks it).
    pub deadline: u8,
    /// Whether it was the orchestrator when lost.
    pub orchestrator: bool,
}

/// A lost orchestrator whose replacement the `timed` properties wait for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OfficeWatch {
    /// The lost orchestrator.
    pub node: NodeId,
    /// Its term.
    pub term: Term,
    /// By when another node must hold office.
    pub deadline: u8,
    /// It went deaf (rather than down, paused or cut off both ways).
    pub deaf: bool,
}

/// Facts only an observer of the whole run knows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Ghost {
    /// Every config some node reported committed (made or learned).
    pub committed: Cached<BTreeMap<Slot, SharedConfig>>,
    /// Every failover record of a committed config.
    pub records: Cached<BTreeSet<FailoverRecord>>,
    /// Which disks persisted each config.
    pub accepted: Cached<BTreeMap<Slot, Acceptance>>,
    /// The highest term that a majority of disks promised.
    pub promise_floor: Term,
    /// Nodes whose failover is on a majority of disks or reported committed.
    pub out: Cached<BTreeSet<NodeId>>,
    /// Proposals that must never be committed.
    pub suspects: Cached<BTreeMap<Slot, Suspect>>,
    /// Who proposed in each term.
    pub proposers: Cached<BTreeMap<Term, NodeId>>,
    /// Consecutive ticks at which node `i` missed node `j` (`i * nodes + j`), capped at
    /// the timeout.
    pub silence: Cached<Vec<u8>>,
    /// Violations.
    pub violations: Violations,
    /// Witnesses.
    pub seen: Witnesses,
    /// Nodes that were orchestrator (by their own view) when a fault hit them.
    pub lost_orchestrators: Cached<BTreeSet<NodeId>>,
    /// Nodes touched by any fault (`timed`).
    pub disturbed: Cached<BTreeSet<NodeId>>,
    /// Nodes that at some time could not hold office: down, paused, or not hearing or
    /// heard by a majority (`timed`).
    pub office_disturbed: Cached<BTreeSet<NodeId>>,
    /// The lost node being timed (`timed`).
    pub watch: Option<Watch>,
    /// The lost orchestrator being timed (`timed`).
    pub office_watch: Option<OfficeWatch>,
    /// Since when each node has not heard a majority (`timed`).
    pub quorumless_since: Cached<BTreeMap<NodeId, u8>>,
    /// By when the healed cluster must have an orchestrator (`timed`, `fenced`).
    pub heal_watch: Option<u8>,
    /// The cluster had an orchestrator since it was last whole (`timed`, `fenced`).
    pub healed: bool,
}

/// Whether `newer` holds everything `older` committed: its failovers and its data moves.
fn extends(newer: &ClusterConfig, older: &ClusterConfig) -> bool {
    older.history.iter().all(|r| newer.history.contains(r))
        && newer.map_version >= older.map_version
}

/// No failover left in `config`'s quota period.
fn quota_spent(config: &ClusterConfig) -> bool {
    config.failover_count >= config.settings.max_count
}

/// Whether a message claims more than `disk` holds (a promise, an acceptance, a config).
pub fn claims_beyond(disk: &Persistent, msg: &Message) -> bool {
    let held = (disk.accepted_term(), disk.config().revision);
    match msg {
        Message::RequestVote { term } => disk.promised() < *term,
        Message::Vote {
            term,
            accepted_term,
            config,
            boot,
        } => {
            disk.promised() < *term
                || (*accepted_term, config.revision) > held
                || *boot != disk.boot()
        }
        Message::Propose { term, config } | Message::Commit { term, config } => {
            (*term, config.revision) > held
        }
        Message::Accepted {
            term,
            revision,
            boot,
        } => disk.promised() < *term || (*term, *revision) > held || *boot != disk.boot(),
        // A pre-vote granted, or a floor given in a refusal, is on disk (as the floor, or
        // covered by the promise).
        Message::PreVoteGranted { term } => disk.promised().max(disk.pre_voted()) < *term,
        Message::Reject {
            promised, floor, ..
        } => *promised > disk.promised() || *floor > disk.promised().max(disk.pre_voted()),
        Message::Heartbeat { .. } | Message::PreVote { .. } | Message::Rejoin { .. } => false,
        // A new kind of message must be judged here before the model can check it.
        other => unreachable!("the observer does not know {:?} messages", other.kind()),
    }
}

impl FailoverModel {
    /// A majority of the members, counted here rather than by the core.
    pub(crate) fn majority(&self) -> usize {
        usize::from(self.setup.nodes) / 2 + 1
    }

    pub(crate) fn silence(&self, ghost: &Ghost, observer: NodeId, peer: NodeId) -> u8 {
        ghost.silence[self.at(observer) * usize::from(self.setup.nodes) + self.at(peer)]
    }

    /// `node` ticked having heard `heard`.
    pub(crate) fn observe_tick(&self, state: &mut State, node: NodeId, heard: &[NodeId]) {
        let n = usize::from(self.setup.nodes);
        let cap = self.setup.timeout_ticks.min(u32::from(u8::MAX)) as u8;
        for peer in self.ids().filter(|p| *p != node) {
            let at = self.at(node) * n + self.at(peer);
            let old = state.ghost.silence[at];
            let new = if heard.contains(&peer) {
                0
            } else {
                (old + 1).min(cap)
            };
            // Written only on a change, so that the counts stay shared otherwise.
            if new != old {
                state.ghost.silence[at] = new;
            }
        }
    }

    /// `node` stopped or restarted: it counts nothing until it ticks again, from zero.
    pub(crate) fn observe_restart(&self, state: &mut State, node: NodeId) {
        let n = usize::from(self.setup.nodes);
        let row = self.at(node) * n;
        if state.ghost.silence[row..row + n].iter().any(|s| *s != 0) {
            state.ghost.silence[row..row + n].fill(0);
        }
    }

    /// What one step of `node` did.
    pub(crate) fn observe_step(&self, state: &mut State, node: NodeId, ready: &Ready) {
        if ready.commit.is_some()
            || ready
                .events
                .iter()
                .any(|e| matches!(e, Event::Proposed { .. }))
        {
            state.trail.ordered = true;
        }
        for event in &ready.events {
            match event {
                Event::FailoverBlocked { reason, .. } => match reason {
                    Blocked::RebalanceRunning => state.ghost.seen.blocked_by_rebalance = true,
                    Blocked::QuotaExhausted => state.ghost.seen.blocked_by_quota = true,
                    _ => {}
                },
                Event::Proposed { term, revision } => {
                    let config = state.slot(node).node.config().clone();
                    debug_assert_eq!(config.revision, *revision);
                    self.observe_proposal(state, node, *term, &config);
                }
                Event::Rejoined { .. } => state.ghost.seen.rejoined = true,
                _ => {}
            }
        }
        if let Some(commit) = &ready.commit {
            if !commit.learned && self.setup.design != failover_core::Design::Fenced {
                // Without terms a commit is its own proposal.
                self.observe_proposal(state, node, commit.term, &commit.config);
            }
            self.observe_commit(state, commit);
        }
    }

    /// `node` proposed `config` in `term`.
    fn observe_proposal(
        &self,
        state: &mut State,
        node: NodeId,
        term: Term,
        config: &ClusterConfig,
    ) {
        let fenced = self.setup.design == failover_core::Design::Fenced;
        let ghost = &mut *state.ghost;
        if fenced && *ghost.proposers.entry(term).or_insert(node) != node {
            ghost.violations.two_proposers_in_a_term = true;
        }
        let suspect = Suspect {
            deposed: fenced && term < ghost.promise_floor,
            failed_over: ghost.out.contains(&node),
        };
        if suspect.deposed {
            ghost.seen.deposed_proposed = true;
        }
        if suspect != Suspect::default() {
            ghost.suspects.insert((term, config.revision), suspect);
        }
        for record in config
            .history
            .iter()
            .filter(|r| r.revision == config.revision)
        {
            let missed = self.silence(ghost, record.issuer, record.node);
            if u32::from(missed) < config.settings.timeout_ticks {
                ghost.violations.premature = true;
            }
        }
    }

    /// Some node reports `commit` (made or learned).
    fn observe_commit(&self, state: &mut State, commit: &Commit) {
        let key = (commit.term, commit.config.revision);
        let new = commit.config.clone();
        let majority = self.majority();
        let ghost = &mut *state.ghost;
        let on_majority = ghost
            .accepted
            .get(&key)
            .is_some_and(|a| a.digest == new.digest() && a.by.count_ones() as usize >= majority);
        if !on_majority {
            ghost.violations.without_majority = true;
        }
        if let Some(known) = ghost.committed.get(&key) {
            if known.digest() != new.digest() {
                ghost.violations.two_configs_in_a_slot = true;
            } else {
                return;
            }
        }
        for (slot, other) in ghost.committed.iter() {
            let ok = if *slot < key {
                extends(&new, other)
            } else {
                extends(other, &new)
            };
            if !ok {
                ghost.violations.not_one_chain = true;
            }
        }
        if let Some(suspect) = ghost.suspects.get(&key) {
            ghost.violations.deposed_work |= suspect.deposed;
            ghost.violations.failed_over_acted |= suspect.failed_over;
        }
        // What the cluster ran when this config was decided: its predecessor, or the
        // newest config committed so far if this one is not older (a stale writer).
        let newest = ghost.committed.keys().next_back().copied();
        let before = match newest {
            Some(n) if n >= key => ghost.committed.range(..key).next_back(),
            _ => ghost.committed.iter().next_back(),
        }
        .map(|(slot, s)| (*slot, s.clone()));
        if let Some((_, prev)) = &before {
            if new.settings != prev.settings {
                // An admin's change decided before the fault, committed after it: the
                // failover bound watched under the old settings no longer applies.
                ghost.watch = None;
            }
            if new.map_version > prev.map_version {
                ghost.seen.data_moved = true;
            }
            if let (Some(r), None) = (prev.rebalance, new.rebalance) {
                if r.term < commit.term && !new.history.iter().any(|f| f.node == r.runner) {
                    ghost.seen.orphan_rebalance_ended = true;
                }
            }
        }
        for record in commit.config.history.iter() {
            if ghost.records.contains(record) {
                continue;
            }
            if let Some((_, prev)) = &before {
                if let Some(r) = prev.rebalance.filter(|r| r.runner != record.node) {
                    let live = r.term == commit.term;
                    let can_abort = prev.settings.can_abort_rebalance;
                    if live && (!can_abort || new.rebalance.is_some()) {
                        ghost.violations.during_rebalance = true;
                    } else if live {
                        ghost.seen.rebalance_aborted = true;
                    }
                }
                if !prev.settings.enabled {
                    ghost.violations.while_disabled = true;
                }
            }
            ghost.records.insert(*record);
            ghost.out.insert(record.node);
            if ghost.watch.is_some_and(|w| w.node == record.node) {
                ghost.watch = None;
            }
        }
        if let Some(w) = ghost.office_watch {
            if commit.term > w.term && commit.config.orchestrator != Some(w.node) {
                if w.deaf {
                    ghost.seen.deaf_orchestrator_replaced = true;
                }
                ghost.office_watch = None;
            }
        }
        if self.timed() {
            // A new term's orchestrator replaced the previous one: only if that one could
            // not hold office at some time.
            if let Some((slot, prev)) = &before {
                if commit.term > slot.0 {
                    if let Some(old) = prev.orchestrator {
                        let by = commit.config.orchestrator;
                        if by != Some(old) && !ghost.office_disturbed.contains(&old) {
                            ghost.violations.healthy_orchestrator_replaced = true;
                        }
                    }
                }
            }
        }
        ghost.committed.insert(key, new);
    }

    /// `node` wrote its state to disk.
    /// `before` is what the disk held, `None` for the first write of an empty disk.
    pub(crate) fn observe_persist(
        &self,
        state: &mut State,
        node: NodeId,
        before: Option<&Persistent>,
    ) {
        let majority = self.majority();
        let after = state.slot(node).disk.clone();
        state.trail.persisted = true;
        let accepted = |p: &Persistent| (p.accepted_term(), p.config().clone());
        if before.map(accepted) != Some(accepted(&after)) {
            let key = (after.accepted_term(), after.config().revision);
            state.trail.accepted = Some(key);
            let ghost = &mut state.ghost;
            let d = after.config().digest();
            let entry = ghost
                .accepted
                .entry(key)
                .or_insert(Acceptance { digest: d, by: 0 });
            if entry.digest != d {
                ghost.violations.two_configs_in_a_slot = true;
            } else if (entry.by.count_ones() as usize) < majority {
                entry.by |= 1 << self.at(node);
                if entry.by.count_ones() as usize >= majority {
                    // Chosen: which other disks accept it later changes nothing.
                    entry.by = u64::MAX;
                    ghost
                        .out
                        .extend(after.config().history.iter().map(|r| r.node));
                }
            }
        }
        if before.map(Persistent::promised) != Some(after.promised()) {
            let mut promises: Vec<Term> = state.nodes.iter().map(|s| s.disk.promised()).collect();
            promises.sort_unstable_by(|a, b| b.cmp(a));
            state.ghost.promise_floor = promises[majority - 1];
        }
    }

    /// `src` puts `msg` on the wire.
    pub(crate) fn observe_send(&self, state: &mut State, src: NodeId, msg: &Message) {
        if claims_beyond(&state.slot(src).disk, msg) {
            state.ghost.violations.beyond_disk = true;
        }
    }

    /// Bookkeeping of a fault that hits `lost` (nodes that stop, pause or are cut off).
    pub(crate) fn observe_loss(&self, state: &mut State, lost: &[NodeId], deaf: bool) {
        for node in lost {
            let slot = state.slot(*node);
            if slot.node.is_orchestrator() {
                state.ghost.lost_orchestrators.insert(*node);
            }
        }
        if !self.timed() {
            return;
        }
        state.ghost.disturbed.extend(lost.iter().copied());
        // Judged once, before either deadline is armed: each deadline makes the other
        // fault-free world look disturbed.
        let calm = match lost {
            [node] => self.calm_apart_from(state, *node),
            _ => false,
        };
        let arm = match lost {
            [node] if calm => Some(Watch {
                node: *node,
                deadline: state.now + self.setup.failover_bound(),
                orchestrator: state.slot(*node).node.is_orchestrator(),
            }),
            _ => None,
        };
        // A deaf node is heard: it is not failed over, but must be replaced.
        state.ghost.watch = arm.filter(|_| !deaf);
        let office = match lost {
            [node] if calm && self.leads_newest(state, *node) => Some(OfficeWatch {
                node: *node,
                term: state.slot(*node).node.leader_term().unwrap_or(0),
                deadline: state.now + self.setup.office_bound(),
                deaf,
            }),
            _ => None,
        };
        if self.setup.design == failover_core::Design::Fenced {
            state.ghost.office_watch = office;
        }
    }

    /// Whether `node` is the orchestrator the newest committed config names, and still
    /// leads.
    fn leads_newest(&self, state: &State, node: NodeId) -> bool {
        let named = state
            .ghost
            .committed
            .values()
            .next_back()
            .and_then(|s| s.orchestrator);
        named == Some(node) && state.slot(node).node.is_orchestrator()
    }

    /// The newest config the cluster has decided: the newest one reported committed, or a
    /// newer one already on a majority of disks whose commit is not reported yet.
    fn newest_decided<'a>(&self, state: &'a State) -> Option<(Slot, &'a ClusterConfig)> {
        let ghost = &state.ghost;
        let committed = ghost.committed.iter().next_back().map(|(k, c)| (*k, &**c));
        let chosen = ghost
            .accepted
            .iter()
            .rev()
            .filter(|(_, a)| a.by == u64::MAX)
            .find_map(|(key, a)| {
                state
                    .nodes
                    .iter()
                    .map(|slot| &slot.disk)
                    .find(|d| {
                        (d.accepted_term(), d.config().revision) == *key
                            && d.config().digest() == a.digest
                    })
                    .map(|d| (*key, &**d.config()))
            });
        match (committed, chosen) {
            (Some(c), Some(h)) => Some(if h.0 > c.0 { h } else { c }),
            (c, h) => c.or(h),
        }
    }

    /// Whether a config newer than `decided` is on some disk, on the wire or waiting to be
    /// sent: a change that may still be decided (and spend the quota) after a fault.
    fn undecided_change(&self, state: &State, decided: Slot) -> bool {
        let newer = |msg: &Message| match msg {
            Message::Propose { term, config } | Message::Commit { term, config } => {
                (*term, config.revision) > decided
            }
            _ => false,
        };
        let waiting = |slot: &crate::state::Slot| match &slot.pending {
            Pending::Persist(out) | Pending::Send(out) => out.iter().any(|o| newer(&o.msg)),
            Pending::Idle => false,
        };
        state.nodes.iter().any(|slot| {
            (slot.disk.accepted_term(), slot.disk.config().revision) > decided || waiting(slot)
        }) || state.network.all().iter().any(|e| newer(&e.msg))
    }

    /// Whether the cluster is healthy apart from `node`, so that `node`'s loss must be
    /// handled in time: no other fault in force, auto-failover on with quota left, every
    /// other active node running with its disk (not rejoining after losing it), and those
    /// nodes a majority of all nodes (a failed-over node still counts in the majority, so
    /// two lost nodes of three leave nobody able to commit), and no node still counted
    /// silent by another.
    pub(crate) fn calm_apart_from(&self, state: &State, node: NodeId) -> bool {
        let ghost = &state.ghost;
        // Decided counts, not only reported: a failover on a majority of disks whose
        // commit is still in flight has already spent the quota and put its node out.
        let out = |n: NodeId| ghost.out.contains(&n);
        let decided = self.newest_decided(state);
        let newest = decided.map(|(_, config)| config);
        let settled = decided.is_none_or(|(slot, _)| !self.undecided_change(state, slot));
        let healthy = |n: NodeId| state.running(n) && !state.slot(n).node.persistent().rejoining();
        let others_up = self.ids().filter(|n| *n != node && healthy(*n)).count();
        // An earlier fault is over only once every node hears every other again: a node
        // that resumed but is still counted silent may yet be failed over and spend the
        // quota.
        let recovered = self
            .ids()
            .filter(|i| *i != node && state.running(*i))
            .all(|i| {
                self.ids()
                    .filter(|j| *j != i && *j != node && !out(*j))
                    .all(|j| self.silence(ghost, i, j) == 0)
            });
        others_up >= self.majority()
            && recovered
            && ghost.watch.is_none()
            && ghost.office_watch.is_none()
            && state.cut.is_none()
            && !out(node)
            && settled
            && newest.is_none_or(|s| s.settings.enabled && !quota_spent(s))
            && self.ids().filter(|n| *n != node && !out(*n)).all(healthy)
    }

    /// `timed`: after every node ticked, who can hear and be heard by a majority.
    pub(crate) fn observe_clock(&self, state: &mut State) {
        let majority = self.majority();
        for node in self.ids() {
            let hears = self
                .ids()
                .filter(|p| *p != node && state.running(*p) && state.link_up(*p, node))
                .count()
                + 1;
            let heard = self
                .ids()
                .filter(|p| *p != node && state.running(*p) && state.link_up(node, *p))
                .count()
                + 1;
            let running = state.running(node);
            if !running || hears < majority || heard < majority {
                state.ghost.office_disturbed.insert(node);
            }
            if running && hears < majority {
                state
                    .ghost
                    .quorumless_since
                    .entry(node)
                    .or_insert(state.now);
            }
        }
        self.observe_hearing(state);
        if self.setup.design == failover_core::Design::Fenced {
            self.observe_healing(state);
        }
        // A failover blocked by a live rebalance (its runner leads its term and runs) may
        // wait for it: the deadline moves on by a tick. A rebalance whose runner lost
        // office earns nothing.
        let blocked = state.ghost.watch.is_some_and(|w| {
            let newest = state.ghost.committed.values().next_back();
            let blocking =
                newest.and_then(|s| s.rebalance.filter(|_| !s.settings.can_abort_rebalance));
            blocking.filter(|r| r.runner != w.node).is_some_and(|r| {
                let runner = &state.nodes[usize::from(r.runner.0)];
                let in_office = match self.setup.design {
                    failover_core::Design::Fenced => runner.node.leader_term() == Some(r.term),
                    _ => runner.node.is_orchestrator(),
                };
                runner.status == Status::Running && in_office
            })
        });
        if blocked {
            if let Some(w) = state.ghost.watch.as_mut() {
                w.deadline = w.deadline.saturating_add(1);
            }
        }
    }

    /// `timed`, `fenced`, at each tick: once every node runs and every link is whole, the
    /// cluster must have an orchestrator in time, one that leads the term of the newest
    /// committed config, which names it — unless the nodes that hold their disks are no
    /// majority, or none of them is active (then nobody may lead or readmit anyone).
    fn observe_healing(&self, state: &mut State) {
        let whole = self.ids().all(|n| state.running(n)) && state.cut.is_none();
        if !whole {
            // Written only on a change, so that the facts stay shared otherwise.
            if state.ghost.heal_watch.is_some() || state.ghost.healed {
                state.ghost.heal_watch = None;
                state.ghost.healed = false;
            }
            return;
        }
        if state.ghost.healed {
            return;
        }
        let newest = state.ghost.committed.values().next_back();
        let led = newest.is_some_and(|c| {
            c.orchestrator
                .is_some_and(|o| c.is_active(o) && state.slot(o).node.leader_term() == Some(c.term))
        });
        if led {
            state.ghost.healed = true;
            state.ghost.heal_watch = None;
            return;
        }
        let whole_disks: Vec<NodeId> = self
            .ids()
            .filter(|n| !state.slot(*n).node.persistent().rejoining())
            .collect();
        let decided = self.newest_decided(state).map(|(_, c)| c);
        let may_lead = whole_disks
            .iter()
            .any(|n| decided.is_none_or(|c| c.is_active(*n)));
        if state.ghost.heal_watch.is_none() && whole_disks.len() >= self.majority() && may_lead {
            let bound = self.setup.office_bound() + 2;
            state.ghost.heal_watch = Some(state.now.saturating_add(bound));
        }
    }

    /// `timed`, after any step: a node that hears a majority again (a heal, a resume, a
    /// restart) or stopped is no longer cut off; the clock alone starts the count.
    pub(crate) fn observe_hearing(&self, state: &mut State) {
        let majority = self.majority();
        let hears_majority = |node: NodeId| {
            self.ids()
                .filter(|p| *p != node && state.running(*p) && state.link_up(*p, node))
                .count()
                + 1
                >= majority
        };
        let recovered: Vec<NodeId> = state
            .ghost
            .quorumless_since
            .keys()
            .copied()
            .filter(|n| !state.running(*n) || hears_majority(*n))
            .collect();
        for node in recovered {
            state.ghost.quorumless_since.remove(&node);
        }
    }

    /// The nodes a cut keeps from leading or being heard.
    pub(crate) fn cut_losses(&self, cut: &Cut) -> Vec<NodeId> {
        match cut {
            Cut::Isolate(side) => side.iter().copied().collect(),
            Cut::Deafen(node) => vec![*node],
            Cut::OneWay { from, to } => vec![*from, *to],
        }
    }
}
