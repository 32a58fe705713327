//! The state of one node and the step that changes it: [`NodeState`] holds what a node
//! knows (its [`Persistent`] part on disk, its detector, registry view and [`Role`]); the
//! design-specific rules live in `fenced`, `unfenced` and `admin` beside it. Drivers reach
//! it through [`crate::Node`].

use crate::config::{ClusterConfig, Settings, SharedConfig};
use crate::detector::Detector;
use crate::election;
use crate::event::Event;
use crate::ids::{Boot, NodeId, Term, Ticks};
use crate::message::{Message, Office, Outgoing};
use crate::node::{Input, RestartError, StepError, UnknownPeer};
use crate::params::{Design, Params};
use crate::quorum::{self, Election, PreElection, Proposal};
use crate::ready::{Commit, Ready};
use crate::registry::Registry;
#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// What a node keeps on disk.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Persistent {
    /// Highest term this node voted for or accepted (`fenced`); it refuses older ones.
    pub(crate) promised: Term,
    /// Term in which `config` was accepted (`fenced`), else 0.
    pub(crate) accepted_term: Term,
    /// The newest cluster config this node accepted or adopted.
    pub(crate) config: SharedConfig,
    /// This disk's identity (0 unless the node lost a disk and rejoined).
    #[cfg_attr(feature = "serde", serde(default))]
    pub(crate) boot: Boot,
    /// The node lost its disk and has not yet been readmitted: it votes and accepts
    /// nothing, and only learns committed configs.
    #[cfg_attr(feature = "serde", serde(default))]
    pub(crate) rejoining: bool,
    /// The highest term this node granted a pre-vote for, kept while above its promise
    /// (`fenced`): it votes for no term below it, grants a pre-vote below it as a grant of
    /// it, and asks above it itself. Otherwise a pre-candidate that collected the grants
    /// and came back late (after a pause) could promise a term above the orchestrator
    /// elected meanwhile, below it, and depose it by refusing its next proposal. On disk,
    /// because a grant is a promise of sorts: a node that forgot it on a restart would
    /// open the same gap.
    #[cfg_attr(feature = "serde", serde(default))]
    pub(crate) pre_voted: Term,
}

impl Persistent {
    /// Highest term this node voted for or accepted (`fenced`); it refuses older ones.
    pub fn promised(&self) -> Term {
        self.promised
    }

    /// Term in which [`Persistent::config`] was accepted (`fenced`), else 0.
    pub fn accepted_term(&self) -> Term {
        self.accepted_term
    }

    /// The newest cluster config this node accepted or adopted (not necessarily
    /// committed).
    pub fn config(&self) -> &SharedConfig {
        &self.config
    }

    /// This disk's identity (0 unless the node lost a disk and rejoined).
    pub fn boot(&self) -> Boot {
        self.boot
    }

    /// Whether the node lost its disk and waits to be readmitted.
    pub fn rejoining(&self) -> bool {
        self.rejoining
    }

    /// The highest term this node granted a pre-vote for, while above its promise
    /// (`fenced`), else 0.
    pub fn pre_voted(&self) -> Term {
        self.pre_voted
    }

    /// The state of a member of a brand-new cluster.
    pub(crate) fn fresh(params: &Params, settings: Settings) -> Self {
        Persistent {
            promised: 0,
            accepted_term: 0,
            config: ClusterConfig::initial(params.members.keys().copied(), settings).into(),
            boot: 0,
            rejoining: false,
            pre_voted: 0,
        }
    }

    /// The state of a node that lost its disk and rejoins with the new disk `boot`.
    pub(crate) fn blank(params: &Params, settings: Settings, boot: Boot) -> Self {
        Persistent {
            boot,
            rejoining: true,
            ..Persistent::fresh(params, settings)
        }
    }
}

/// A node's part in the `fenced` protocol.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[non_exhaustive]
pub enum Role {
    /// Neither candidate nor leader.
    Follower,
    /// Asking whether a majority would vote, before promising anything.
    PreCandidate(PreElection),
    /// Asking a majority for a term.
    Candidate(Election),
    /// Won `term`; may commit one proposal at a time.
    Leader {
        /// The term won.
        term: Term,
        /// The proposal waiting for a majority, if any.
        proposal: Option<Proposal>,
    },
}

/// The state of one node: persistent part plus volatile detection, registry and role.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct NodeState {
    /// What is (or must be) on disk.
    pub(crate) persistent: Persistent,
    /// Down counters of the peers.
    pub(crate) detector: Detector,
    /// Singleton registry view (`legacy`, `poc`).
    pub(crate) registry: Registry,
    /// Part in the `fenced` protocol.
    pub(crate) role: Role,
    /// Highest term heard of in a refusal (`fenced`).
    pub(crate) seen_term: Term,
    /// The orchestrator this node follows, and its term (`fenced`): the node it voted for
    /// or accepted from, or a peer whose heartbeat says it leads a term not older than this
    /// node's promise. Dropped when that node's heartbeat says it gave the term up.
    pub(crate) leader: Option<(NodeId, Term)>,
    /// The orchestrator whose proposal or commit this node accepted since its last tick
    /// (`fenced`), kept only while the detector does not see it up. Leader stickiness
    /// counts it as live until the next tick, where the detector, which counts heartbeats
    /// alone, takes over: as a Raft append restarts the election timer, so that a node
    /// that has just accepted from a leader never votes against it. Failover detection is
    /// not touched.
    #[cfg_attr(feature = "serde", serde(default))]
    pub(crate) accepted_from: Option<NodeId>,
    /// Peers whose last heartbeat said they cannot lead (`fenced`: they hear no majority,
    /// lost their disk and wait to be readmitted, or were failed over), so nobody waits
    /// for them.
    pub(crate) cannot_lead: BTreeSet<NodeId>,
    /// Ticks since this node's auto-failover started, capped at the threshold (`legacy`
    /// only, where counters start cold; 0 elsewhere).
    pub(crate) warm: Ticks,
}

impl NodeState {
    /// A node starting from `persistent` (fresh or read from disk): it hears every peer as
    /// just seen and holds no role. A state whose config names other members than
    /// `params` (another cluster's disk, or a config edited since) is refused.
    pub(crate) fn restart(params: &Params, persistent: Persistent) -> Result<Self, RestartError> {
        let stored: Vec<NodeId> = persistent.config.membership.keys().copied().collect();
        let configured: Vec<NodeId> = params.members.keys().copied().collect();
        if stored != configured {
            return Err(RestartError::OtherMembers { stored, configured });
        }
        Ok(NodeState::start(params, persistent))
    }

    /// A node on `persistent`, which fits `params` by construction.
    fn start(params: &Params, persistent: Persistent) -> Self {
        NodeState {
            persistent,
            detector: Detector::new(params.peers(), params.tolerated_misses),
            registry: Registry::default(),
            role: Role::Follower,
            seen_term: 0,
            leader: None,
            accepted_from: None,
            cannot_lead: BTreeSet::new(),
            warm: 0,
        }
    }

    /// A member of a brand-new cluster, from the first config (every member starts from the
    /// same one). Its first state must be persisted before it starts.
    pub(crate) fn bootstrap(params: &Params, settings: Settings) -> Self {
        NodeState::start(params, Persistent::fresh(params, settings))
    }

    /// A node whose disk was lost, starting on the new disk `boot` (a value never used
    /// before by this node). It votes and accepts nothing until the cluster has committed
    /// `boot` as its disk, so that promises made by the lost disk are never broken. Its
    /// first state must be persisted before it starts.
    pub(crate) fn rejoin(params: &Params, settings: Settings, boot: Boot) -> Self {
        NodeState::start(params, Persistent::blank(params, settings, boot))
    }

    /// A node of a settled cluster whose orchestrator is `orchestrator`, in term 1 for
    /// `fenced`. The model starts from here; every node must be built with the same values.
    pub(crate) fn settled(params: &Params, settings: Settings, orchestrator: NodeId) -> Self {
        let mut persistent = Persistent::fresh(params, settings);
        let fenced = params.design == Design::Fenced;
        if fenced {
            persistent.promised = 1;
            persistent.accepted_term = 1;
            let mut config = persistent.config.to_owned_config();
            config.orchestrator = Some(orchestrator);
            config.term = 1;
            persistent.config = config.into();
        }
        let mut node = NodeState::start(params, persistent);
        if params.design == Design::Legacy {
            node.warm = settings.timeout_ticks;
        }
        if fenced && params.id == orchestrator {
            node.role = Role::Leader {
                term: 1,
                proposal: None,
            };
        }
        if fenced && params.id != orchestrator {
            node.leader = Some((orchestrator, 1));
        }
        if !fenced {
            node.registry = Registry::held_by(orchestrator);
        }
        node
    }

    /// The newest cluster config this node holds (accepted, not necessarily committed).
    pub fn config(&self) -> &SharedConfig {
        &self.persistent.config
    }

    /// What is (or must be) on this node's disk.
    pub fn persistent(&self) -> &Persistent {
        &self.persistent
    }

    /// The down counters of the peers.
    pub fn detector(&self) -> &Detector {
        &self.detector
    }

    /// The singleton registry as this node sees it (`legacy`, `poc`).
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// This node's part in the `fenced` protocol.
    pub fn role(&self) -> &Role {
        &self.role
    }

    /// The orchestrator this node follows and its term (`fenced`), whether or not it still
    /// hears it.
    pub fn followed(&self) -> Option<(NodeId, Term)> {
        self.leader
    }

    /// The term this node leads, if it leads one.
    pub fn leader_term(&self) -> Option<Term> {
        match self.role {
            Role::Leader { term, .. } => Some(term),
            _ => None,
        }
    }

    /// Whether this node acts as orchestrator by its own view.
    pub(crate) fn is_orchestrator(&self, params: &Params) -> bool {
        match params.design {
            Design::Fenced => self.leader_term().is_some(),
            Design::Legacy | Design::Poc => self.registry.owner() == Some(params.id),
        }
    }

    /// The orchestrator this node hears acting (itself if it leads), or none: the config's
    /// record of the last orchestrator is no sign that it still acts.
    pub(crate) fn orchestrator(&self, params: &Params) -> Option<NodeId> {
        match params.design {
            Design::Fenced => self.heard_leader(params, None),
            Design::Legacy | Design::Poc => self.registry.owner(),
        }
    }

    /// The master as this node sees it.
    pub(crate) fn master(&self, params: &Params) -> NodeId {
        let eligible = |n: NodeId| n == params.id || !self.cannot_lead.contains(&n);
        election::master(params, self.config(), &self.detector, eligible)
    }

    /// Whether this node hears a majority of the members, itself included: the peers it
    /// heard within the master timeout.
    pub(crate) fn has_quorum(&self, params: &Params) -> bool {
        let heard = params
            .peers()
            .filter(|p| election::seen_up(params, &self.detector, *p))
            .count();
        heard + 1 >= params.majority()
    }

    /// The heartbeat this node sends on every tick.
    pub(crate) fn heartbeat(&self, params: &Params) -> Message {
        let fenced = params.design == Design::Fenced;
        let office = match &self.role {
            Role::Leader { term, .. } if fenced => Office::Leader(*term),
            Role::Candidate(e) if fenced => Office::Candidate(e.term),
            _ => Office::None,
        };
        Message::Heartbeat {
            orchestrator: !fenced && self.is_orchestrator(params),
            office,
            can_lead: self.has_quorum(params) && !self.persistent.rejoining && self.active(params),
            accepted_term: self.persistent.accepted_term,
            revision: self.config().revision,
        }
    }

    /// The highest term this node knows of.
    pub fn term(&self) -> Term {
        let followed = self.leader.map_or(0, |(_, t)| t);
        self.persistent
            .promised
            .max(self.seen_term)
            .max(followed)
            .max(self.persistent.pre_voted)
    }

    /// Feeds one input; see the module docs for the calling contract.
    pub(crate) fn step(&mut self, params: &Params, input: Input) -> Result<Ready, StepError> {
        let before = self.persistent.clone();
        let mut ready = Ready::default();
        match input {
            Input::Tick => self.on_tick(params, &mut ready),
            Input::Message { from, msg } => {
                self.check_peer(params, from)?;
                // Only heartbeats ("up" frames) count for detection, as in the origin system.
                if let Message::Heartbeat { .. } = msg {
                    self.detector.heard(from);
                }
                match params.design {
                    Design::Fenced => self.on_message_fenced(params, from, msg, &mut ready),
                    Design::Legacy | Design::Poc => {
                        self.on_message_unfenced(params, from, msg, &mut ready)
                    }
                }
            }
            Input::NodeDown { peer } => {
                self.check_peer(params, peer)?;
                if params.design != Design::Fenced && self.registry.on_nodedown(peer) {
                    ready.events.push(Event::RegistrationDropped { peer });
                }
            }
            Input::Admin(command) => self.on_admin(params, command, &mut ready)?,
        }
        // A term heard of in a refusal matters only while it is above what the node knows
        // otherwise; keeping it longer would only make equal states look different.
        let known = self
            .persistent
            .promised
            .max(self.leader.map_or(0, |(_, t)| t))
            .max(self.persistent.pre_voted);
        if self.seen_term <= known {
            self.seen_term = 0;
        }
        // A pre-vote below the promise constrains nothing the promise does not.
        if self.persistent.pre_voted <= self.persistent.promised {
            self.persistent.pre_voted = 0;
        }
        if self.persistent != before {
            ready.persist = Some(self.persistent.clone());
        }
        Ok(ready)
    }

    fn check_peer(&self, params: &Params, peer: NodeId) -> Result<(), UnknownPeer> {
        if peer == params.id || !params.is_member(peer) {
            Err(UnknownPeer(peer))
        } else {
            Ok(())
        }
    }

    pub(crate) fn active(&self, params: &Params) -> bool {
        self.config().is_active(params.id)
    }

    pub(crate) fn threshold(&self) -> Ticks {
        self.config().settings.timeout_ticks.max(1)
    }

    pub(crate) fn broadcast(params: &Params, msg: &Message, ready: &mut Ready) {
        for to in params.peers() {
            ready.messages.push(Outgoing {
                to,
                msg: msg.clone(),
            });
        }
    }

    fn on_tick(&mut self, params: &Params, ready: &mut Ready) {
        let threshold = self.threshold();
        let config = &self.persistent.config;
        let active = |p: NodeId| config.is_active(p);
        let changes = self
            .detector
            .tick(params.peers(), active, threshold, params.master_ticks);
        for (peer, health) in changes {
            ready.events.push(Event::HealthChanged { peer, health });
        }
        // The detector has had its tick to see the leader (or miss it): from here on,
        // this tick included, it decides.
        self.accepted_from = None;
        match params.design {
            Design::Legacy | Design::Poc => self.tick_unfenced(params, ready),
            Design::Fenced => self.tick_fenced(params, ready),
        }
    }

    /// Reports `config` as committed in `term` (by this node, or learned from `by`).
    pub(crate) fn report_commit(
        &self,
        params: &Params,
        term: Term,
        by: NodeId,
        config: &SharedConfig,
        ready: &mut Ready,
    ) {
        let learned = by != params.id;
        if !learned {
            for record in &config.history {
                if record.revision == config.revision && record.issuer == params.id {
                    ready.events.push(Event::FailoverCommitted(*record));
                }
            }
        }
        ready.commit = Some(Commit {
            term,
            by,
            config: config.clone(),
            learned,
        });
    }

    /// Accepts `config` of `term` if the term is not older than promised and the config is
    /// newer than the accepted one. Returns whether it did.
    pub(crate) fn accept(&mut self, term: Term, config: &SharedConfig, ready: &mut Ready) -> bool {
        let p = &self.persistent;
        if term < p.promised || !quorum::newer(term, config, p.accepted_term, &p.config) {
            return false;
        }
        self.step_down(term, ready);
        let p = &mut self.persistent;
        p.promised = term;
        p.accepted_term = term;
        p.config = config.clone();
        true
    }

    /// Leaves any candidacy or leadership older than `newer`.
    pub(crate) fn step_down(&mut self, newer: Term, ready: &mut Ready) {
        let term = match &self.role {
            Role::Follower => return,
            Role::PreCandidate(p) => p.term,
            Role::Candidate(e) => e.term,
            Role::Leader { term, .. } => *term,
        };
        if newer > term || (newer == term && !matches!(self.role, Role::Leader { .. })) {
            ready.events.push(Event::SteppedDown { term, newer });
            self.role = Role::Follower;
        }
    }
}
