//! The stateright [`Model`]: the world around `failover-core` nodes. It delivers inputs to
//! [`Node::step`] and carries out the [`Ready`] it returns, one world event per step;
//! it never decides anything about the protocol itself. What it sees goes to the observer
//! ([`crate::observe`]).

use crate::cached::Cached;
use crate::observe::Ghost;
use crate::setup::{Heartbeats, NetworkMode, Nodedowns, Setup, Start, Timing};
use crate::state::{
    Action, AdminKind, Cut, Envelope, Network, Notice, Peers, Pending, Slot, Spent, State, Status,
    Trail,
};
use failover_core::{
    AdminCommand, Input, Message, Node, NodeId, Outgoing, Params, Ready, Settings, SettingsChange,
};
use stateright::Model;
use std::collections::BTreeSet;
use std::sync::Arc;

/// The model of one [`Setup`].
#[derive(Clone, Debug)]
pub struct FailoverModel {
    /// What is explored.
    pub setup: Setup,
    /// Static parameters of every node, by id (shared with the nodes of every state).
    pub params: Vec<Arc<Params>>,
    /// The initial auto-failover settings.
    pub settings: Settings,
    /// The first node id (the ids are consecutive): 0, or a recorded run's first.
    pub first: u16,
}

impl FailoverModel {
    /// Builds the model of `setup`, which must be valid.
    pub fn new(setup: Setup) -> Self {
        let members: Vec<NodeId> = (0..setup.nodes).map(NodeId).collect();
        let params = members
            .iter()
            .map(|id| {
                Params::new(
                    *id,
                    members.iter().copied(),
                    setup.design,
                    setup.master_ticks,
                )
                .expect("model parameters are valid")
                .with_tolerated_misses(setup.tolerated_misses)
                .into()
            })
            .collect();
        let settings = Settings {
            enabled: true,
            timeout_ticks: setup.timeout_ticks,
            max_count: setup.max_count,
            can_abort_rebalance: setup.can_abort_rebalance,
        };
        FailoverModel {
            setup,
            params,
            settings,
            first: 0,
        }
    }

    /// The model of `setup` for nodes with the given parameters (a recorded run's): their
    /// ids must be consecutive and in order, `setup.nodes` of them.
    pub fn with_params(setup: Setup, params: Vec<Params>, settings: Settings) -> Self {
        let first = params.first().map_or(0, |p| p.id.0);
        debug_assert!(params
            .iter()
            .enumerate()
            .all(|(i, p)| usize::from(p.id.0) == usize::from(first) + i));
        FailoverModel {
            params: params.into_iter().map(Arc::new).collect(),
            settings,
            first,
            ..FailoverModel::new(setup)
        }
    }

    pub(crate) fn ids(&self) -> impl Iterator<Item = NodeId> {
        (self.first..self.first + self.setup.nodes).map(NodeId)
    }

    /// Where `node` is in the state's slots (and the model's parameters).
    pub(crate) fn at(&self, node: NodeId) -> usize {
        usize::from(node.0 - self.first)
    }

    pub(crate) fn timed(&self) -> bool {
        self.setup.timing == Timing::Timed
    }

    /// Whether `node` can take an input now.
    fn ready_for_input(state: &State, node: NodeId) -> bool {
        let slot = state.slot(node);
        slot.status == Status::Running && slot.pending == Pending::Idle
    }

    /// Whether the search stops expanding `state`: some node knows a term or a revision
    /// beyond the bounds.
    pub fn at_bound(&self, state: &State) -> bool {
        state.nodes.iter().any(|slot| {
            slot.node.term() > self.setup.max_term
                || slot.node.config().revision > self.setup.max_revision
        })
    }

    /// Feeds `input` to `node` and carries out the result. Returns false if the node refused
    /// the input (its state is then unchanged).
    fn step_node(&self, state: &mut State, node: NodeId, input: Input) -> bool {
        let slot = &mut state.nodes[self.at(node)];
        let Ok(ready) = slot.node.step(input) else {
            return false;
        };
        self.observe_step(state, node, &ready);
        self.carry_out(state, node, ready);
        true
    }

    /// The model's driver: a step's state is written by a later `Persist` action (so that
    /// a crash can fall in between), and its messages wait for it.
    fn carry_out(&self, state: &mut State, node: NodeId, mut ready: Ready) {
        let slot = &mut state.nodes[self.at(node)];
        // The state itself is the node's own persistent part, written by `persist`.
        let must_persist = ready.take_persist().is_some();
        let messages = ready.messages().expect("the state was taken out");
        // A step can follow another of the same action (a tick after the heartbeats it
        // read) that still owes: its messages queue behind what is owed, and one write of
        // the node's state covers both steps.
        let (owes_write, mut queued) = match std::mem::replace(&mut slot.pending, Pending::Idle) {
            Pending::Idle => (false, Vec::new()),
            Pending::Persist(owed) => (true, owed),
            Pending::Send(owed) => (false, owed),
        };
        let must_persist = must_persist || owes_write;
        if must_persist && self.setup.unsafe_send_before_persist {
            slot.pending = Pending::Persist(queued);
            self.send(state, node, messages);
        } else if must_persist {
            queued.extend(messages);
            slot.pending = Pending::Persist(queued);
        } else if queued.is_empty() {
            self.send(state, node, messages);
        } else {
            queued.extend(messages);
            slot.pending = Pending::Send(queued);
        }
    }

    /// Where a write and its sends are one step ([`Self::write_and_send_at_once`]), pays
    /// what the action left owed once it is done: one write for the whole action, as
    /// when they are apart, should two of its steps write (a tick follows the heartbeats
    /// it read; no design writes on a heartbeat today).
    pub(crate) fn pay_at_once(&self, state: &mut State) {
        if !self.write_and_send_at_once(state) {
            return;
        }
        for node in self.ids() {
            if state.running(node) && state.slot(node).pending != Pending::Idle {
                self.pay_owed(state, node);
            }
        }
    }

    /// Whether a step's disk write and sends are carried out in its action: in
    /// `async` once no shutdown is left to fall between them. Nothing else can: while a
    /// node owes them, only its own write, send and shutdown are offered ([`Model::actions`]),
    /// so the states in between have one successor each, and every `async` property reads
    /// facts that stay once set. A state at a bound is left owing, as it is not expanded.
    fn write_and_send_at_once(&self, state: &State) -> bool {
        let (b, spent) = (&self.setup.bounds, &state.spent);
        self.setup.timing == Timing::Async
            && spent.clean_shutdowns >= b.clean_shutdowns
            && spent.unclean_shutdowns >= b.unclean_shutdowns
            && !self.at_bound(state)
    }

    /// Carries out what `node` owes: the disk write, then the sends that waited for it.
    fn pay_owed(&self, state: &mut State, node: NodeId) {
        let slot = &mut state.nodes[self.at(node)];
        match std::mem::replace(&mut slot.pending, Pending::Idle) {
            Pending::Persist(messages) => {
                self.persist(state, node);
                self.send(state, node, messages);
            }
            Pending::Send(messages) => self.send(state, node, messages),
            Pending::Idle => {}
        }
    }

    /// Writes `node`'s state to its disk.
    fn persist(&self, state: &mut State, node: NodeId) {
        let slot: &mut Slot = &mut state.nodes[self.at(node)];
        let before = std::mem::replace(&mut slot.disk, slot.node.persistent().clone());
        self.observe_persist(state, node, Some(&before));
    }

    /// Puts messages on the network. Heartbeats are left out unless they are messages
    /// (`--heartbeats messages`): the model hands a node the heartbeats of the peers it
    /// heard right before each tick (see [`Self::tick`]), which covers any delay or loss of
    /// them without keeping them in flight.
    fn send(&self, state: &mut State, src: NodeId, messages: Vec<Outgoing>) {
        let read = self.setup.heartbeats == Heartbeats::Read;
        for Outgoing { to, msg } in messages {
            if read && matches!(msg, Message::Heartbeat { .. }) {
                continue;
            }
            self.observe_send(state, src, &msg);
            state.trail.sent_to |= 1 << self.at(to);
            let down = matches!(state.slot(to).status, Status::Down { .. });
            if !down && state.link_up(src, to) {
                let merge = self.setup.network != NetworkMode::Outbox;
                state
                    .network
                    .send(src, to, msg, self.setup.link_capacity, merge);
            }
        }
    }

    /// The peers whose heartbeats `node` can hear: running, on a link that is up.
    pub(crate) fn audible(&self, state: &State, node: NodeId) -> Peers {
        self.ids()
            .filter(|p| *p != node && state.running(*p) && state.link_up(*p, node))
            .collect()
    }

    /// `node` gets the current heartbeat of every peer in `heard`, then ticks. With
    /// heartbeats as messages they arrived before: `heard` are their senders.
    fn tick(&self, state: &mut State, node: NodeId, heard: &[NodeId]) {
        if self.setup.heartbeats == Heartbeats::Read {
            for peer in heard {
                let msg = state.slot(*peer).node.heartbeat();
                self.step_node(state, node, Input::Message { from: *peer, msg });
            }
        } else {
            let at = self.at(node);
            state.nodes[at].heard = 0;
        }
        self.observe_tick(state, node, heard);
        self.step_node(state, node, Input::Tick);
    }

    /// With heartbeats as messages: the peers whose heartbeat `node` got since its tick.
    pub(crate) fn heard_since_tick(&self, state: &State, node: NodeId) -> Peers {
        let bits = state.slot(node).heard;
        self.ids()
            .filter(|p| bits & (1 << self.at(*p)) != 0)
            .collect()
    }

    /// Delivers `envelope` (a copy stays in flight if `keep`); a heartbeat taken counts
    /// as heard at the next tick.
    fn deliver(&self, state: &mut State, envelope: Envelope, keep: bool) {
        if !keep {
            state.network.remove(&envelope);
        }
        let heartbeat = matches!(envelope.msg, Message::Heartbeat { .. });
        let (src, dst) = (envelope.src, envelope.dst);
        let input = Input::Message {
            from: src,
            msg: envelope.msg,
        };
        if self.step_node(state, dst, input) && heartbeat {
            let bit = 1 << self.at(src);
            let at = self.at(dst);
            state.nodes[at].heard |= bit;
        }
    }

    fn notice_due(&self, state: &State, late: bool) -> u8 {
        match (self.timed(), late) {
            (false, _) => 0,
            (true, false) => state.now,
            (true, true) => state.now.saturating_add(self.setup.net_tick_ticks),
        }
    }

    /// Queues a `nodedown`, unless `nodedown`s are inert (then delivering it would only
    /// take it off the queue again: the premise property checks that at every state).
    fn raise(&self, state: &mut State, notice: Notice) {
        if self.setup.nodedowns == Nodedowns::Queued {
            state.notices.insert(notice);
        }
    }

    fn tell_peers(&self, state: &mut State, about: NodeId, late: bool) {
        let due = self.notice_due(state, late);
        for to in self.ids().filter(|n| *n != about) {
            if !matches!(state.slot(to).status, Status::Down { .. }) {
                self.raise(state, Notice { due, to, about });
            }
        }
    }

    /// Whether a `nodedown` about `peer` would change nothing at `node`: no output, and
    /// the same node afterwards. An input the node refuses changes nothing either.
    fn nodedown_inert(node: &Node, peer: NodeId) -> bool {
        let mut after = node.clone();
        match after.step(Input::NodeDown { peer }) {
            Ok(ready) => ready.is_empty() && after == *node,
            Err(_) => after == *node,
        }
    }

    /// The premise of inert `nodedown`s at `state`: every node that could take an input
    /// now would ignore a `nodedown` of any peer. It depends on a node's slot alone, so
    /// each slot is asked once (a slot a step did not change was asked in an earlier
    /// state).
    pub(crate) fn nodedowns_inert(&self, state: &State) -> bool {
        state.nodes.iter().all(|slot| {
            slot.holds_once(|slot| {
                let ready = slot.status == Status::Running && slot.pending == Pending::Idle;
                let id = slot.node.id();
                !ready
                    || self
                        .ids()
                        .filter(|p| *p != id)
                        .all(|p| Self::nodedown_inert(&slot.node, p))
            })
        })
    }

    /// In `timed`, a connection that recovers before the net-tick timeout raises no
    /// `nodedown`; in `async` a late one may still arrive.
    fn cancel_notices(&self, state: &mut State, keep: impl Fn(&Notice) -> bool) {
        if self.timed() {
            let now = state.now;
            if !state.notices.iter().all(|n| n.due <= now || keep(n)) {
                state.notices.retain(|n| n.due <= now || keep(n));
            }
        }
    }

    /// `timed`: carries out every owed disk write and send and delivers every message and
    /// due `nodedown` to running nodes, in a fixed order, until nothing is left to do. So
    /// each tick sees every message of the previous one delivered (bounded delivery), and
    /// the clock is the only source of branching besides faults.
    fn settle(&self, state: &mut State) {
        for _ in 0..100_000 {
            if !self.settle_step(state) {
                return;
            }
        }
        panic!("the network never went quiet: a message loop between nodes");
    }

    /// Whether bounded delivery still owes something: a disk write or send of a running
    /// node, a due `nodedown` to one, or a message to one.
    pub(crate) fn owes_delivery(&self, state: &State) -> bool {
        self.ids()
            .any(|n| state.running(n) && state.slot(n).pending != Pending::Idle)
            || state
                .notices
                .iter()
                .any(|n| n.due <= state.now && state.running(n.to))
            || state
                .network
                .deliverable(false)
                .iter()
                .any(|e| state.running(e.dst))
    }

    /// One step of [`Self::settle`], in its fixed order: the first owed disk write or send,
    /// else the first due `nodedown`, else the first message at the head of its link.
    /// Returns false if nothing was owed.
    fn settle_step(&self, state: &mut State) -> bool {
        if let Some(n) = self
            .ids()
            .find(|n| state.running(*n) && state.slot(*n).pending != Pending::Idle)
        {
            self.pay_owed(state, n);
            return true;
        }
        let now = state.now;
        if let Some(notice) = state
            .notices
            .iter()
            .find(|n| n.due <= now && state.running(n.to))
            .copied()
        {
            state.notices.remove(&notice);
            self.step_node(state, notice.to, Input::NodeDown { peer: notice.about });
            return true;
        }
        let next = state
            .network
            .deliverable(false)
            .into_iter()
            .find(|e| state.running(e.dst));
        if let Some(envelope) = next {
            state.network.remove(&envelope);
            let input = Input::Message {
                from: envelope.src,
                msg: envelope.msg,
            };
            self.step_node(state, envelope.dst, input);
            return true;
        }
        false
    }

    /// An administrator gives `node` the `command` of `kind` (the model's own, or a
    /// recorded one of that kind). Returns false if the node refused it.
    pub(crate) fn admin(
        &self,
        state: &mut State,
        n: NodeId,
        kind: AdminKind,
        command: AdminCommand,
    ) -> bool {
        if !self.step_node(state, n, Input::Admin(command)) {
            return false;
        }
        match kind {
            AdminKind::StartRebalance => state.spent.rebalances += 1,
            AdminKind::ResetCount => state.spent.quota_resets += 1,
            AdminKind::ToggleEnabled | AdminKind::ToggleAbort => {
                state.spent.settings_changes += 1;
                state.ghost.watch = None;
            }
            AdminKind::StopRebalance => {}
        }
        true
    }

    pub(crate) fn admin_command(
        &self,
        state: &State,
        node: NodeId,
        kind: AdminKind,
    ) -> AdminCommand {
        let settings = state.slot(node).node.config().settings;
        match kind {
            AdminKind::StartRebalance => AdminCommand::StartRebalance {
                steps: self.setup.rebalance_steps,
            },
            AdminKind::StopRebalance => AdminCommand::StopRebalance,
            AdminKind::ResetCount => AdminCommand::ResetCount,
            AdminKind::ToggleEnabled => AdminCommand::ChangeSettings(SettingsChange {
                enabled: Some(!settings.enabled),
                ..SettingsChange::default()
            }),
            AdminKind::ToggleAbort => AdminCommand::ChangeSettings(SettingsChange {
                can_abort_rebalance: Some(!settings.can_abort_rebalance),
                ..SettingsChange::default()
            }),
        }
    }

    fn cuts(&self) -> Vec<(Cut, bool)> {
        let b = &self.setup.bounds;
        let mut cuts = Vec::new();
        if b.partitions > 0 {
            for n in self.ids() {
                cuts.push((Cut::Isolate(BTreeSet::from([n])), false));
            }
            if self.setup.nodes >= 4 {
                let half = self.ids().take(self.setup.nodes as usize / 2).collect();
                cuts.push((Cut::Isolate(half), false));
            }
        }
        if b.one_way_cuts > 0 {
            for n in self.ids() {
                cuts.push((Cut::Deafen(n), true));
            }
            for from in self.ids() {
                for to in self.ids().filter(|to| *to != from) {
                    cuts.push((Cut::OneWay { from, to }, true));
                }
            }
        }
        cuts
    }

    fn initial_node(&self, params: &Arc<Params>) -> Node {
        match self.setup.start {
            Start::Settled => Node::settled(params.clone(), self.settings, NodeId(self.first)),
            Start::Fresh => Node::bootstrap(params.clone(), self.settings),
        }
    }
}

impl Model for FailoverModel {
    type State = State;
    type Action = Action;

    fn init_states(&self) -> Vec<State> {
        let nodes = self
            .params
            .iter()
            .map(|params| {
                let node = self.initial_node(params);
                Cached::new(Slot {
                    status: Status::Running,
                    disk: node.persistent().clone(),
                    node,
                    pending: Pending::Idle,
                    heard: 0,
                })
            })
            .collect();
        let n = usize::from(self.setup.nodes);
        let mut state = State {
            now: 0,
            nodes,
            network: Network::default(),
            notices: Cached::default(),
            cut: None,
            spent: Spent::default(),
            ghost: Cached::new(Ghost {
                silence: Cached::new(vec![0; n * n]),
                ..Ghost::default()
            }),
            trail: Trail::default(),
        };
        // The first config is committed: it is on every disk.
        for node in self.ids() {
            self.observe_persist(&mut state, node, None);
        }
        let first = &state.nodes[0].disk;
        let slot = (first.accepted_term(), first.config().revision);
        state.ghost.committed.insert(slot, first.config().clone());
        vec![state]
    }

    fn actions(&self, state: &State, actions: &mut Vec<Action>) {
        if self.at_bound(state) {
            return;
        }
        let b = &self.setup.bounds;
        let spent = &state.spent;
        // A node that owes a disk write (and the sends that wait for it) goes first: those
        // steps touch only its own disk and outgoing links, which nobody can observe before
        // the sends, so letting others move in between adds states but no behaviour. What
        // matters is kept: the node may die before the write, or after it and before the
        // sends.
        let owing = self
            .ids()
            .find(|n| state.running(*n) && state.slot(*n).pending != Pending::Idle);
        if let (Some(n), Timing::Async) = (owing, self.setup.timing) {
            match state.slot(n).pending {
                Pending::Persist(_) => actions.push(Action::Persist(n)),
                Pending::Send(_) => actions.push(Action::Send(n)),
                Pending::Idle => {}
            }
            for (clean, spent, bound) in [
                (true, spent.clean_shutdowns, b.clean_shutdowns),
                (false, spent.unclean_shutdowns, b.unclean_shutdowns),
            ] {
                if spent < bound {
                    actions.push(Action::Shutdown { node: n, clean });
                }
            }
            return;
        }
        // Time.
        match self.setup.timing {
            Timing::Async if self.setup.heartbeats == Heartbeats::Messages => {
                for node in self.ids().filter(|n| Self::ready_for_input(state, *n)) {
                    let heard = self.heard_since_tick(state, node);
                    actions.push(Action::Tick { node, heard });
                }
            }
            Timing::Async => {
                for node in self.ids().filter(|n| Self::ready_for_input(state, *n)) {
                    let audible = self.audible(state, node);
                    let all = (1u32 << audible.len()) - 1;
                    for bits in (0..=all).rev() {
                        if bits != all && spent.late_heartbeats >= b.late_heartbeats {
                            break;
                        }
                        let heard = audible
                            .iter()
                            .enumerate()
                            .filter(|(i, _)| bits & (1 << i) != 0)
                            .map(|(_, p)| *p)
                            .collect();
                        actions.push(Action::Tick { node, heard });
                    }
                }
            }
            Timing::Timed => {
                let settles = !self.setup.faults_in_flight;
                if !settles && self.owes_delivery(state) {
                    // Bounded delivery: the clock waits until the tick's work is done.
                    actions.push(Action::Settle);
                } else if state.now < self.setup.horizon {
                    actions.push(Action::Advance {
                        late: None,
                        settles,
                    });
                    if spent.late_heartbeats < b.late_heartbeats {
                        for node in self.ids().filter(|n| state.running(*n)) {
                            for peer in self.audible(state, node) {
                                actions.push(Action::Advance {
                                    late: Some((node, peer)),
                                    settles,
                                });
                            }
                        }
                    }
                }
            }
        }
        // Deliveries (`timed` delivers in `settle`), duplicates, losses, reconnects.
        if !self.timed() {
            let unordered = self.setup.network == NetworkMode::Unordered;
            for envelope in state.network.deliverable(unordered) {
                if Self::ready_for_input(state, envelope.dst) {
                    if spent.duplicates < b.duplicates {
                        actions.push(Action::Duplicate(envelope.clone()));
                    }
                    actions.push(Action::Deliver(envelope));
                }
            }
            for notice in state.notices.iter() {
                if Self::ready_for_input(state, notice.to) {
                    actions.push(Action::NodeDown(*notice));
                }
            }
        }
        if spent.losses < b.losses {
            for envelope in state.network.all() {
                actions.push(Action::Lose(envelope));
            }
        }
        if spent.link_drops < b.link_drops {
            for (src, dst) in state.network.busy_links() {
                actions.push(Action::DropLink(src, dst));
            }
        }
        // Faults.
        for n in self.ids() {
            match state.slot(n).status {
                Status::Running | Status::Paused => {
                    if spent.clean_shutdowns < b.clean_shutdowns {
                        actions.push(Action::Shutdown {
                            node: n,
                            clean: true,
                        });
                    }
                    if spent.unclean_shutdowns < b.unclean_shutdowns {
                        actions.push(Action::Shutdown {
                            node: n,
                            clean: false,
                        });
                    }
                }
                Status::Down { .. } => {
                    if spent.restarts < b.restarts {
                        actions.push(Action::Restart(n));
                    }
                    let blank = state.slot(n).disk.rejoining();
                    if spent.disk_losses < b.disk_losses && !blank {
                        actions.push(Action::LoseDisk(n));
                    }
                }
            }
            match state.slot(n).status {
                Status::Running if spent.pauses < b.pauses => actions.push(Action::Pause(n)),
                Status::Paused => actions.push(Action::Resume(n)),
                _ => {}
            }
        }
        match &state.cut {
            None => {
                for (cut, one_way) in self.cuts() {
                    let left = if one_way {
                        spent.one_way_cuts < b.one_way_cuts
                    } else {
                        spent.partitions < b.partitions
                    };
                    if left {
                        actions.push(Action::Cut(cut));
                    }
                }
            }
            Some(_) => actions.push(Action::Heal),
        }
        // Administrators.
        for n in self.ids().filter(|n| Self::ready_for_input(state, *n)) {
            if spent.rebalances < b.rebalances {
                actions.push(Action::Admin(n, AdminKind::StartRebalance));
            }
            if spent.rebalances > 0 {
                actions.push(Action::Admin(n, AdminKind::StopRebalance));
            }
            if spent.quota_resets < b.quota_resets {
                actions.push(Action::Admin(n, AdminKind::ResetCount));
            }
            if spent.settings_changes < b.settings_changes {
                actions.push(Action::Admin(n, AdminKind::ToggleEnabled));
                actions.push(Action::Admin(n, AdminKind::ToggleAbort));
            }
        }
    }

    fn next_state(&self, last: &State, action: Action) -> Option<State> {
        let mut state = last.clone();
        state.trail = Trail::default();
        match action {
            Action::Tick { node, heard } => {
                let read = self.setup.heartbeats == Heartbeats::Read;
                if read && heard.len() < self.audible(&state, node).len() {
                    state.spent.late_heartbeats += 1;
                }
                self.tick(&mut state, node, &heard);
            }
            Action::Advance { late, .. } => {
                state.now += 1;
                self.observe_clock(&mut state);
                // A late heartbeat that the detector tolerates (the first of a row, with a
                // master timeout longer than a tick) is no fault: the peer still counts as
                // up and as heard, so every time bound stays armed.
                let tolerated = late.is_some_and(|(node, peer)| {
                    let misses = u32::from(self.silence(&state.ghost, node, peer)) + 1;
                    misses <= self.setup.tolerated_misses && misses < self.setup.master_ticks
                });
                if late.is_some_and(|_| !tolerated) {
                    // A false suspicion may delay an election: the healing deadline starts
                    // again at the next tick.
                    state.ghost.heal_watch = None;
                }
                if let Some((node, peer)) = late.filter(|_| !tolerated) {
                    // A false suspicion: the failover bounds promise nothing about the two
                    // nodes it touches, and `node` may count too few peers to hold office.
                    // The suspected `peer` keeps its office: one follower's doubt must not
                    // depose an orchestrator the others hear.
                    state.ghost.disturbed.extend([node, peer]);
                    state.ghost.office_disturbed.insert(node);
                    state.ghost.watch = None;
                    state.ghost.office_watch = None;
                }
                // Bounded delivery: every running node hears every live, reachable peer
                // (but a late heartbeat).
                let hearing: Vec<(NodeId, Peers)> = self
                    .ids()
                    .filter(|n| state.running(*n))
                    .map(|n| {
                        let heard = self
                            .audible(&state, n)
                            .into_iter()
                            .filter(|p| late != Some((n, *p)))
                            .collect();
                        (n, heard)
                    })
                    .collect();
                if late.is_some() {
                    state.spent.late_heartbeats += 1;
                }
                if let Some((_, peer)) = late.filter(|_| !tolerated) {
                    // Together with a cut, the late heartbeat may leave `peer` heard by
                    // too few to keep office this tick.
                    let heard_by = 1 + hearing.iter().filter(|(_, h)| h.contains(&peer)).count();
                    if heard_by < self.majority() {
                        state.ghost.office_disturbed.insert(peer);
                    }
                }
                for (node, heard) in hearing {
                    self.tick(&mut state, node, &heard);
                }
            }
            Action::Settle => {
                if !self.settle_step(&mut state) {
                    return None;
                }
            }
            Action::Deliver(envelope) => self.deliver(&mut state, envelope, false),
            Action::Duplicate(envelope) => {
                state.spent.duplicates += 1;
                self.deliver(&mut state, envelope, true);
            }
            Action::Lose(envelope) => {
                state.spent.losses += 1;
                state.network.remove(&envelope);
                if self.timed() {
                    state.ghost.heal_watch = None;
                    state.ghost.disturbed.extend([envelope.src, envelope.dst]);
                    state.ghost.watch = None;
                    state.ghost.office_watch = None;
                }
            }
            Action::DropLink(src, dst) => {
                state.spent.link_drops += 1;
                state.network.drop_link(src, dst);
                if self.timed() {
                    state.ghost.disturbed.extend([src, dst]);
                    state.ghost.watch = None;
                    state.ghost.office_watch = None;
                }
            }
            Action::Persist(n) => {
                let slot = &mut state.nodes[self.at(n)];
                let Pending::Persist(messages) =
                    std::mem::replace(&mut slot.pending, Pending::Idle)
                else {
                    return None;
                };
                if !messages.is_empty() {
                    slot.pending = Pending::Send(messages);
                }
                self.persist(&mut state, n);
            }
            Action::Send(n) => {
                let slot = &mut state.nodes[self.at(n)];
                let Pending::Send(messages) = std::mem::replace(&mut slot.pending, Pending::Idle)
                else {
                    return None;
                };
                self.send(&mut state, n, messages);
            }
            Action::NodeDown(notice) => {
                state.notices.remove(&notice);
                self.step_node(
                    &mut state,
                    notice.to,
                    Input::NodeDown { peer: notice.about },
                );
            }
            Action::Shutdown { node, clean } => {
                if clean {
                    state.spent.clean_shutdowns += 1;
                } else {
                    state.spent.unclean_shutdowns += 1;
                }
                self.observe_loss(&mut state, &[node], false);
                state.ghost.office_disturbed.insert(node);
                self.observe_restart(&mut state, node);
                let slot = &mut state.nodes[self.at(node)];
                slot.status = Status::Down { clean };
                slot.pending = Pending::Idle;
                slot.heard = 0;
                state.network.retain_links(|_, dst| dst != node);
                if state.notices.iter().any(|n| n.to == node) {
                    state.notices.retain(|n| n.to != node);
                }
                self.tell_peers(&mut state, node, !clean);
            }
            Action::LoseDisk(n) => {
                state.spent.disk_losses += 1;
                let boot = u64::from(state.spent.disk_losses);
                // What a node that rejoins on a new disk writes first.
                let params = self.params[self.at(n)].clone();
                let blank = Node::rejoin(params, self.settings, boot)
                    .persistent()
                    .clone();
                let slot = &mut state.nodes[self.at(n)];
                slot.disk = blank;
            }
            Action::Restart(n) => {
                state.spent.restarts += 1;
                let params = self.params[self.at(n)].clone();
                let slot = &mut state.nodes[self.at(n)];
                slot.node = Node::restart(params, slot.disk.clone())
                    .expect("a node's own disk names its cluster's members");
                slot.status = Status::Running;
                let blank = slot.disk.rejoining();
                self.observe_restart(&mut state, n);
                state.ghost.watch = None;
                // A lost orchestrator that comes back without its disk cannot lead until a
                // new orchestrator readmits it: its office must still be filled in time.
                if !(blank && state.ghost.office_watch.is_some_and(|w| w.node == n)) {
                    state.ghost.office_watch = None;
                }
            }
            Action::Pause(n) => {
                state.spent.pauses += 1;
                self.observe_loss(&mut state, &[n], false);
                state.ghost.office_disturbed.insert(n);
                state.nodes[self.at(n)].status = Status::Paused;
                self.tell_peers(&mut state, n, true);
            }
            Action::Resume(n) => {
                let slot = &mut state.nodes[self.at(n)];
                slot.status = Status::Running;
                let was_orchestrator = slot.node.is_orchestrator();
                if was_orchestrator && state.ghost.out.contains(&n) {
                    state.ghost.seen.fenced_resumed = true;
                }
                self.cancel_notices(&mut state, |notice| notice.about != n);
                state.ghost.watch = None;
                state.ghost.office_watch = None;
            }
            Action::Cut(cut) => {
                let one_way = !matches!(cut, Cut::Isolate(_));
                if one_way {
                    state.spent.one_way_cuts += 1;
                } else {
                    state.spent.partitions += 1;
                }
                let lost = self.cut_losses(&cut);
                self.observe_loss(&mut state, &lost, matches!(cut, Cut::Deafen(_)));
                state.network.retain_links(|a, b| !cut.blocks(a, b));
                let due = self.notice_due(&state, true);
                for a in self.ids() {
                    for b in self.ids() {
                        let up = !matches!(state.slot(a).status, Status::Down { .. });
                        // A receiver whose peer's frames stop gets nodedown for it.
                        if cut.blocks(b, a) && up && a != b {
                            let notice = Notice {
                                due,
                                to: a,
                                about: b,
                            };
                            self.raise(&mut state, notice);
                        }
                    }
                }
                state.cut = Some(cut);
            }
            Action::Heal => {
                let cut = state.cut.take()?;
                self.cancel_notices(&mut state, |n| !cut.blocks(n.about, n.to));
                state.ghost.watch = None;
                state.ghost.office_watch = None;
            }
            Action::Admin(n, kind) => {
                let command = self.admin_command(&state, n, kind);
                if !self.admin(&mut state, n, kind, command) {
                    return None;
                }
            }
        }
        self.pay_at_once(&mut state);
        if self.timed() {
            if !self.setup.faults_in_flight {
                self.settle(&mut state);
            }
            self.observe_hearing(&mut state);
        }
        Some(state)
    }

    fn properties(&self) -> Vec<stateright::Property<Self>> {
        crate::properties::for_setup(&self.setup)
    }

    fn format_action(&self, action: &Action) -> String {
        action.to_string()
    }

    fn format_step(&self, last: &State, action: Action) -> Option<String> {
        let next = self.next_state(last, action.clone())?;
        let changes = crate::trace::describe_changes(last, &next);
        Some(format!("{action}\n{}\n\n{next:#?}", changes.join("\n")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use failover_core::Design;

    /// What `node` sends `to` when it takes `input`, its own write done.
    fn sent_to(node: &mut Node, input: Input, to: NodeId) -> Vec<Message> {
        let mut ready = node.step(input).expect("the node takes it");
        ready.take_persist();
        let messages = ready.messages().expect("the write was taken");
        messages
            .into_iter()
            .filter(|m| m.to == to)
            .map(|m| m.msg)
            .collect()
    }

    #[test]
    fn two_writes_in_one_action_keep_the_messages_of_both() {
        // With a shutdown left, the write and its sends are steps of their own; with
        // none, they are paid when the action is done: one write either way.
        for shutdowns_left in [1, 0] {
            let mut setup = Setup::new(Design::Fenced, 3, Timing::Async);
            setup.bounds.unclean_shutdowns = shutdowns_left;
            let model = FailoverModel::new(setup);
            two_writes_in_one_action(&model);
            let at_once = shutdowns_left == 0;
            assert_eq!(
                model.write_and_send_at_once(&model.init_states()[0]),
                at_once
            );
        }
    }

    /// Two steps of `n1` in one action that each write: both owe the one write.
    fn two_writes_in_one_action(model: &FailoverModel) {
        let mut state = model.init_states().remove(0);
        let (n0, n1, n2) = (NodeId(0), NodeId(1), NodeId(2));
        // Two proposals of the settled orchestrator, the first committed with n2's
        // acceptance; n1 has seen neither yet.
        let mut leader = state.slot(n0).node.clone();
        let mut other = state.slot(n2).node.clone();
        let reset = || Input::Admin(AdminCommand::ResetCount);
        let first = sent_to(&mut leader, reset(), n1).remove(0);
        let accepted = sent_to(
            &mut other,
            Input::Message {
                from: n0,
                msg: first.clone(),
            },
            n0,
        )
        .remove(0);
        let _ = sent_to(
            &mut leader,
            Input::Message {
                from: n2,
                msg: accepted,
            },
            n1,
        );
        let second = sent_to(&mut leader, reset(), n1)
            .into_iter()
            .find(|m| matches!(m, Message::Propose { .. }))
            .expect("a second proposal");
        // n1 takes both in one action, owing its write in between.
        for msg in [first, second] {
            assert!(model.step_node(&mut state, n1, Input::Message { from: n0, msg }));
        }
        let Pending::Persist(owed) = &state.slot(n1).pending else {
            panic!("n1 owes its write: {:?}", state.slot(n1).pending);
        };
        let revisions: Vec<_> = owed
            .iter()
            .filter_map(|m| match m.msg {
                Message::Accepted { revision, .. } if m.to == n0 => Some(revision),
                _ => None,
            })
            .collect();
        assert_eq!(
            revisions.len(),
            2,
            "both acceptances wait for the write: {owed:?}"
        );
        assert!(
            revisions[0] < revisions[1],
            "in the order taken: {revisions:?}"
        );
        // The action done, it is paid at once where nothing can fall in between.
        let owed = owed.clone();
        model.pay_at_once(&mut state);
        let paid = state.slot(n1).pending == Pending::Idle;
        assert_eq!(paid, model.write_and_send_at_once(&state));
        if paid {
            assert_eq!(&state.slot(n1).disk, state.slot(n1).node.persistent());
            assert!(owed.iter().all(|m| state
                .network
                .all()
                .iter()
                .any(|e| e.src == n1 && e.dst == m.to && e.msg == m.msg)));
        }
    }
}
