//! The stateright [`Model`]: the world around `failover-core` nodes. It delivers inputs to
//! [`NodeState::step`] and carries out the [`Ready`] it returns, one world event per step;
//! it never decides anything about the protocol itself.

use crate::setup::{Setup, Timing};
use crate::state::{
    Action, AdminKind, Ghost, Network, Notice, Pending, Slot, Spent, State, Status, Watch,
};
use failover_core::{
    AdminCommand, Blocked, Commit, Design, Event, Input, Message, NodeId, NodeState, Outgoing,
    Params, Ready, Settings,
};
use stateright::Model;
use std::collections::BTreeSet;

/// The model of one [`Setup`].
#[derive(Clone, Debug)]
pub struct FailoverModel {
    /// What is explored.
    pub setup: Setup,
    /// Static parameters of every node, by id.
    pub params: Vec<Params>,
    /// The initial auto-failover settings.
    pub settings: Settings,
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
            })
            .collect();
        let settings = Settings {
            enabled: true,
            timeout_ticks: setup.timeout_ticks,
            max_count: setup.max_count,
        };
        FailoverModel {
            setup,
            params,
            settings,
        }
    }

    fn ids(&self) -> impl Iterator<Item = NodeId> {
        (0..self.setup.nodes).map(NodeId)
    }

    fn params(&self, node: NodeId) -> &Params {
        &self.params[node.0 as usize]
    }

    fn timed(&self) -> bool {
        self.setup.timing == Timing::Timed
    }

    fn majority(&self) -> usize {
        self.params[0].majority()
    }

    /// Whether `node` can take an input now.
    fn ready_for_input(state: &State, node: NodeId) -> bool {
        let slot = state.slot(node);
        slot.status == Status::Running && slot.pending == Pending::Idle
    }

    /// Feeds `input` to `node` and carries out the result. Returns false if the node refused
    /// the input (its state is then unchanged).
    fn step_node(&self, state: &mut State, node: NodeId, input: Input) -> bool {
        let slot = &mut state.nodes[node.0 as usize];
        let Ok(ready) = slot.node.step(&self.params[node.0 as usize], input) else {
            return false;
        };
        self.carry_out(state, node, ready);
        true
    }

    fn carry_out(&self, state: &mut State, node: NodeId, ready: Ready) {
        for event in &ready.events {
            match event {
                Event::FailoverBlocked {
                    reason: Blocked::RebalanceRunning,
                    ..
                } => state.ghost.blocked_by_rebalance = true,
                Event::FailoverBlocked {
                    reason: Blocked::QuotaExhausted,
                    ..
                } => state.ghost.blocked_by_quota = true,
                _ => {}
            }
        }
        if let Some(commit) = &ready.commit {
            self.observe_commit(state, commit);
        }
        if ready.persist.is_some() && self.setup.unsafe_send_before_persist {
            self.send(state, node, ready.messages);
            state.nodes[node.0 as usize].pending = Pending::Persist(Vec::new());
        } else if ready.persist.is_some() {
            state.nodes[node.0 as usize].pending = Pending::Persist(ready.messages);
        } else {
            self.send(state, node, ready.messages);
        }
    }

    /// Puts messages on the network. Heartbeats are left out: the model hands a node the
    /// heartbeats of the peers it heard right before each tick (see [`Self::tick`]), which
    /// covers any delay or loss of them without keeping them in flight.
    fn send(&self, state: &mut State, src: NodeId, messages: Vec<Outgoing>) {
        for Outgoing { to, msg } in messages {
            let down = matches!(state.slot(to).status, Status::Down { .. });
            let heartbeat = matches!(msg, Message::Heartbeat { .. });
            if !down && !heartbeat && state.connected(src, to) {
                state.network.send(src, to, msg);
            }
        }
    }

    /// The peers whose heartbeats `node` can hear: running and reachable.
    fn audible(&self, state: &State, node: NodeId) -> Vec<NodeId> {
        self.ids()
            .filter(|p| *p != node)
            .filter(|p| state.slot(*p).status == Status::Running && state.connected(node, *p))
            .collect()
    }

    /// `node` gets the current heartbeat of every peer in `heard`, then ticks.
    fn tick(&self, state: &mut State, node: NodeId, heard: &BTreeSet<NodeId>) {
        for peer in heard {
            let msg = state.slot(*peer).node.heartbeat(self.params(*peer));
            self.step_node(state, node, Input::Message { from: *peer, msg });
        }
        self.step_node(state, node, Input::Tick);
    }

    /// Records what a commit means for the properties.
    fn observe_commit(&self, state: &mut State, commit: &Commit) {
        // Steps taken earlier in this same world step (a deposed runner stepping down, say)
        // count before the commit.
        self.observe_rebalance(state);
        let majority = self.majority();
        let ghost = &mut state.ghost;
        if self.setup.design == Design::Fenced {
            ghost.acted.insert((commit.term, commit.by));
        }
        if ghost.records.iter().any(|r| r.node == commit.by) {
            ghost.failed_over_acted = true;
        }
        let config = &commit.config;
        for record in &config.history {
            if ghost.records.contains(record) {
                continue;
            }
            if ghost.rebalance.is_some_and(|runner| runner != record.node) {
                ghost.during_rebalance = true;
            }
            let holders = state
                .nodes
                .iter()
                .filter(|slot| slot.disk.config.history.contains(record))
                .count();
            if holders < majority {
                ghost.without_majority = true;
            }
            ghost.records.insert(*record);
            if ghost.watch.is_some_and(|w| w.node == record.node) {
                ghost.watch = None;
            }
        }
        let key = (commit.term, config.revision);
        if key > ghost.newest_commit {
            ghost.newest_commit = key;
            ghost.quota_spent = config.failover_count >= config.settings.max_count;
        }
        if ghost.rebalance == Some(commit.by) && config.rebalance != Some(commit.by) {
            ghost.rebalance = None;
        }
        if config.rebalance == Some(commit.by) && ghost.rebalance.is_none() {
            ghost.rebalance = Some(commit.by);
            if ghost.watch.is_some_and(|w| w.node != commit.by) {
                ghost.watch = None;
            }
        }
    }

    /// A rebalance really runs while its runner is up, still acts as orchestrator and still
    /// has it running in its own config: it ends when the runner stops it, dies, is
    /// failed over or steps down.
    fn observe_rebalance(&self, state: &mut State) {
        if let Some(runner) = state.ghost.rebalance {
            let slot = state.slot(runner);
            let runs = !matches!(slot.status, Status::Down { .. })
                && slot.node.is_orchestrator(self.params(runner))
                && slot.node.config().rebalance == Some(runner)
                && !state.ghost.records.iter().any(|r| r.node == runner);
            if !runs {
                state.ghost.rebalance = None;
            }
        }
    }

    /// Bookkeeping of a fault that hits `lost` (a node that stops, pauses or is cut off).
    fn observe_loss(&self, state: &mut State, lost: &[NodeId]) {
        for node in lost {
            let slot = state.slot(*node);
            if slot.node.is_orchestrator(self.params(*node)) {
                state.ghost.lost_orchestrators.insert(*node);
            }
        }
        if !self.timed() {
            return;
        }
        state.ghost.disturbed.extend(lost.iter().copied());
        let arm = match lost {
            [node] => self.calm_apart_from(state, *node).then(|| Watch {
                node: *node,
                since: state.now,
                orchestrator: state.ghost.lost_orchestrators.contains(node)
                    && state.slot(*node).node.is_orchestrator(self.params(*node)),
            }),
            _ => None,
        };
        state.ghost.watch = arm;
    }

    /// Whether the cluster is healthy apart from `node`, so that `node`'s loss must be
    /// failed over in time: no other fault in force, quota left, no other rebalance.
    fn calm_apart_from(&self, state: &State, node: NodeId) -> bool {
        let ghost = &state.ghost;
        let failed_over = |n: NodeId| ghost.records.iter().any(|r| r.node == n);
        ghost.watch.is_none()
            && state.partition.is_none()
            && !failed_over(node)
            && !ghost.quota_spent
            && ghost.rebalance.is_none_or(|runner| runner == node)
            && self
                .ids()
                .filter(|n| *n != node && !failed_over(*n))
                .all(|n| state.slot(n).status == Status::Running)
    }

    fn notice_due(&self, state: &State, late: bool) -> u8 {
        match (self.timed(), late) {
            (false, _) => 0,
            (true, false) => state.now,
            (true, true) => state.now.saturating_add(self.setup.net_tick_ticks),
        }
    }

    fn tell_peers(&self, state: &mut State, about: NodeId, late: bool) {
        let due = self.notice_due(state, late);
        for to in self.ids().filter(|n| *n != about) {
            if !matches!(state.slot(to).status, Status::Down { .. }) {
                state.notices.insert(Notice { due, to, about });
            }
        }
    }

    /// In `timed`, a connection that recovers before the net-tick timeout raises no
    /// `nodedown`; in `async` a late one may still arrive.
    fn cancel_notices(&self, state: &mut State, keep: impl Fn(&Notice) -> bool) {
        if self.timed() {
            let now = state.now;
            state.notices.retain(|n| n.due <= now || keep(n));
        }
    }

    /// `timed`: carries out every owed disk write and send and delivers every message and
    /// due `nodedown` to running nodes, in a fixed order, until nothing is left to do. So
    /// each tick sees every message of the previous one delivered (bounded delivery), and
    /// the clock is the only source of branching besides faults.
    fn settle(&self, state: &mut State) {
        for _ in 0..100_000 {
            let running = |s: &State, n: NodeId| s.slot(n).status == Status::Running;
            if let Some(n) = self
                .ids()
                .find(|n| running(state, *n) && state.slot(*n).pending != Pending::Idle)
            {
                let slot = &mut state.nodes[n.0 as usize];
                match std::mem::replace(&mut slot.pending, Pending::Idle) {
                    Pending::Persist(messages) => {
                        slot.disk = slot.node.persistent.clone();
                        self.send(state, n, messages);
                    }
                    Pending::Send(messages) => self.send(state, n, messages),
                    Pending::Idle => {}
                }
                continue;
            }
            let now = state.now;
            if let Some(notice) = state
                .notices
                .iter()
                .find(|n| n.due <= now && running(state, n.to))
                .copied()
            {
                state.notices.remove(&notice);
                self.step_node(state, notice.to, Input::NodeDown { peer: notice.about });
                continue;
            }
            let next = state.network.heads().find(|e| running(state, e.dst));
            if let Some(envelope) = next {
                state.network.remove(&envelope);
                let input = Input::Message {
                    from: envelope.src,
                    msg: envelope.msg,
                };
                self.step_node(state, envelope.dst, input);
                continue;
            }
            return;
        }
        panic!("the network never went quiet: a message loop between nodes");
    }

    fn admin_command(kind: AdminKind) -> AdminCommand {
        match kind {
            AdminKind::StartRebalance => AdminCommand::StartRebalance,
            AdminKind::StopRebalance => AdminCommand::StopRebalance,
            AdminKind::ResetCount => AdminCommand::ResetCount,
        }
    }

    fn partitions(&self) -> Vec<BTreeSet<NodeId>> {
        let mut sides: Vec<BTreeSet<NodeId>> = self.ids().map(|n| BTreeSet::from([n])).collect();
        if self.setup.nodes >= 4 {
            sides.push(self.ids().take(self.setup.nodes as usize / 2).collect());
        }
        sides
    }
}

impl Model for FailoverModel {
    type State = State;
    type Action = Action;

    fn init_states(&self) -> Vec<State> {
        let orchestrator = NodeId(0);
        let nodes = self
            .params
            .iter()
            .map(|params| {
                let node = NodeState::settled(params, self.settings, orchestrator);
                Slot {
                    status: Status::Running,
                    disk: node.persistent.clone(),
                    node,
                    pending: Pending::Idle,
                }
            })
            .collect();
        vec![State {
            now: 0,
            nodes,
            network: Network::default(),
            notices: BTreeSet::new(),
            partition: None,
            spent: Spent::default(),
            ghost: Ghost::default(),
        }]
    }

    fn actions(&self, state: &State, actions: &mut Vec<Action>) {
        let b = &self.setup.bounds;
        let spent = &state.spent;
        // A node that owes a disk write (and the sends that wait for it) goes first: those
        // steps touch only its own disk and outgoing links, which nobody can observe before
        // the sends, so letting others move in between adds states but no behaviour. What
        // matters is kept: the node may die before the write, or after it and before the
        // sends.
        let owing = self.ids().find(|n| {
            state.slot(*n).status == Status::Running && state.slot(*n).pending != Pending::Idle
        });
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
                if state.now < self.setup.horizon {
                    actions.push(Action::Advance);
                }
            }
        }
        // Deliveries (`timed` delivers in `settle`) and losses.
        if !self.timed() {
            for envelope in state.network.heads() {
                if Self::ready_for_input(state, envelope.dst) {
                    actions.push(Action::Deliver(envelope));
                }
            }
            for notice in &state.notices {
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
                }
            }
            match state.slot(n).status {
                Status::Running if spent.pauses < b.pauses => actions.push(Action::Pause(n)),
                Status::Paused => actions.push(Action::Resume(n)),
                _ => {}
            }
        }
        match &state.partition {
            None if spent.partitions < b.partitions => {
                for side in self.partitions() {
                    actions.push(Action::Partition(side));
                }
            }
            Some(_) => actions.push(Action::Heal),
            None => {}
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
        }
    }

    fn next_state(&self, last: &State, action: Action) -> Option<State> {
        let mut state = last.clone();
        match action {
            Action::Tick { node, heard } => {
                if heard.len() < self.audible(&state, node).len() {
                    state.spent.late_heartbeats += 1;
                    if self.timed() {
                        state.ghost.disturbed.insert(node);
                    }
                }
                self.tick(&mut state, node, &heard);
            }
            Action::Advance => {
                state.now += 1;
                // Bounded delivery: every running node hears every live, reachable peer.
                let hearing: Vec<(NodeId, BTreeSet<NodeId>)> = self
                    .ids()
                    .filter(|n| state.slot(*n).status == Status::Running)
                    .map(|n| (n, self.audible(&state, n).into_iter().collect()))
                    .collect();
                for (node, heard) in hearing {
                    self.tick(&mut state, node, &heard);
                }
            }
            Action::Deliver(envelope) => {
                state.network.remove(&envelope);
                let input = Input::Message {
                    from: envelope.src,
                    msg: envelope.msg,
                };
                self.step_node(&mut state, envelope.dst, input);
            }
            Action::Lose(envelope) => {
                state.spent.losses += 1;
                state.network.remove(&envelope);
                if self.timed() {
                    state.ghost.disturbed.extend([envelope.src, envelope.dst]);
                    state.ghost.watch = None;
                }
            }
            Action::Persist(n) => {
                let slot = &mut state.nodes[n.0 as usize];
                let Pending::Persist(messages) =
                    std::mem::replace(&mut slot.pending, Pending::Idle)
                else {
                    return None;
                };
                slot.disk = slot.node.persistent.clone();
                if !messages.is_empty() {
                    slot.pending = Pending::Send(messages);
                }
            }
            Action::Send(n) => {
                let slot = &mut state.nodes[n.0 as usize];
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
                self.observe_loss(&mut state, &[node]);
                let slot = &mut state.nodes[node.0 as usize];
                slot.status = Status::Down { clean };
                slot.pending = Pending::Idle;
                state.network.retain_links(|_, dst| dst != node);
                state.notices.retain(|n| n.to != node);
                self.tell_peers(&mut state, node, !clean);
            }
            Action::Restart(n) => {
                state.spent.restarts += 1;
                let params = self.params(n);
                let slot = &mut state.nodes[n.0 as usize];
                slot.node = NodeState::restart(params, slot.disk.clone());
                slot.status = Status::Running;
                state.ghost.watch = None;
            }
            Action::Pause(n) => {
                state.spent.pauses += 1;
                self.observe_loss(&mut state, &[n]);
                state.nodes[n.0 as usize].status = Status::Paused;
                self.tell_peers(&mut state, n, true);
            }
            Action::Resume(n) => {
                let slot = &mut state.nodes[n.0 as usize];
                slot.status = Status::Running;
                let was_orchestrator = slot.node.is_orchestrator(self.params(n));
                if was_orchestrator && state.ghost.records.iter().any(|r| r.node == n) {
                    state.ghost.fenced_resumed = true;
                }
                self.cancel_notices(&mut state, |notice| notice.about != n);
                state.ghost.watch = None;
            }
            Action::Partition(side) => {
                state.spent.partitions += 1;
                let lost: Vec<NodeId> = side.iter().copied().collect();
                self.observe_loss(&mut state, &lost);
                state.partition = Some(side.clone());
                let cut = |a: &NodeId, b: &NodeId| side.contains(a) != side.contains(b);
                state.network.retain_links(|a, b| !cut(&a, &b));
                let due = self.notice_due(&state, true);
                for a in self.ids() {
                    for b in self.ids() {
                        let up = !matches!(state.slot(a).status, Status::Down { .. });
                        if cut(&a, &b) && up {
                            state.notices.insert(Notice {
                                due,
                                to: a,
                                about: b,
                            });
                        }
                    }
                }
            }
            Action::Heal => {
                let side = state.partition.take()?;
                let cut = |a: &NodeId, b: &NodeId| side.contains(a) != side.contains(b);
                self.cancel_notices(&mut state, |n| !cut(&n.to, &n.about));
                state.ghost.watch = None;
            }
            Action::Admin(n, kind) => {
                if !self.step_node(&mut state, n, Input::Admin(Self::admin_command(kind))) {
                    return None;
                }
                match kind {
                    AdminKind::StartRebalance => {
                        state.spent.rebalances += 1;
                        state.ghost.watch = None;
                    }
                    AdminKind::ResetCount => state.spent.quota_resets += 1,
                    AdminKind::StopRebalance => {}
                }
            }
        }
        if self.timed() {
            self.settle(&mut state);
        }
        self.observe_rebalance(&mut state);
        Some(state)
    }

    fn within_boundary(&self, state: &State) -> bool {
        state
            .nodes
            .iter()
            .all(|slot| slot.node.term() <= self.setup.max_term)
    }

    fn properties(&self) -> Vec<stateright::Property<Self>> {
        crate::properties::for_setup(&self.setup)
    }

    fn format_action(&self, action: &Action) -> String {
        action.to_string()
    }

    fn format_step(&self, last: &State, action: Action) -> Option<String> {
        let next = self.next_state(last, action.clone())?;
        let changes = crate::trace::describe_changes(self, last, &next);
        Some(format!("{action}\n{}\n\n{next:#?}", changes.join("\n")))
    }
}
