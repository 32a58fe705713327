//! One node: the single entry point [`NodeState::step`] that takes an [`Input`] and returns a
//! [`Ready`] of what the driver must do.
//!
//! Calling contract (the driver MUST follow it):
//! 1. Feed inputs one at a time: `Tick` once per heartbeat period, every message, every
//!    `nodedown`, every admin command.
//! 2. If `Ready::persist` is set, write it durably **before** sending any of
//!    `Ready::messages`; until then feed no other input. Messages may be sent in any order,
//!    lost or duplicated: the protocol copes.
//! 3. `Ready::commit` (a config this node committed or learned to be committed) and
//!    `Ready::events` are facts to act on and to log.
//! 4. After a restart, build the node with [`NodeState::restart`] from the last persisted
//!    [`Persistent`]. A node whose disk is lost must not start from a fresh state: it
//!    rejoins with [`NodeState::rejoin`] and a [`Boot`] never used before.

use crate::config::{ClusterConfig, FailoverRecord, Settings, SharedConfig};
use crate::detector::{Detector, Health};
use crate::election;
use crate::ids::{Boot, NodeId, Revision, Term, Ticks};
use crate::message::{Message, Office, Outgoing};
use crate::params::{Design, Params};
use crate::quorum::{self, Election, PreElection, Proposal};
use crate::registry::Registry;
use crate::rules::Blocked;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

pub use crate::admin::{AdminCommand, AdminRefusal};

/// What a node keeps on disk.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Persistent {
    /// Highest term this node voted for or accepted (`fenced`); it refuses older ones.
    pub promised: Term,
    /// Term in which `config` was accepted (`fenced`), else 0.
    pub accepted_term: Term,
    /// The newest cluster config this node accepted or adopted.
    pub config: SharedConfig,
    /// This disk's identity (0 unless the node lost a disk and rejoined).
    #[serde(default)]
    pub boot: Boot,
    /// The node lost its disk and has not yet been readmitted: it votes and accepts
    /// nothing, and only learns committed configs.
    #[serde(default)]
    pub rejoining: bool,
}

impl Persistent {
    /// The state of a member of a brand-new cluster.
    pub fn fresh(params: &Params, settings: Settings) -> Self {
        Persistent {
            promised: 0,
            accepted_term: 0,
            config: ClusterConfig::initial(params.members.keys().copied(), settings).into(),
            boot: 0,
            rejoining: false,
        }
    }

    /// The state of a node that lost its disk and rejoins with the new disk `boot`.
    pub fn blank(params: &Params, settings: Settings, boot: Boot) -> Self {
        Persistent {
            boot,
            rejoining: true,
            ..Persistent::fresh(params, settings)
        }
    }
}

/// A node's part in the `fenced` protocol.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

/// One input of a node.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Input {
    /// One heartbeat period elapsed: the node sends its heartbeat and counts the peers it
    /// did not hear from.
    Tick,
    /// A message from a peer.
    Message {
        /// The sender.
        from: NodeId,
        /// The message.
        msg: Message,
    },
    /// The connection to `peer` is gone (at once after a clean shutdown, after the net-tick
    /// timeout after an unclean one).
    NodeDown {
        /// The lost peer.
        peer: NodeId,
    },
    /// An administrator's command.
    Admin(AdminCommand),
}

/// A config this node knows to be committed: in `fenced`, accepted by a majority in `term`;
/// elsewhere applied by its author.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Commit {
    /// The committing term (0 outside `fenced`).
    pub term: Term,
    /// The committing node.
    pub by: NodeId,
    /// The committed config.
    pub config: SharedConfig,
    /// Whether this node learned it from a peer rather than committing it itself.
    #[serde(default)]
    pub learned: bool,
}

/// Something worth logging.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Event {
    /// A peer's health changed.
    HealthChanged {
        /// The peer.
        peer: NodeId,
        /// Its new health.
        health: Health,
    },
    /// This node registered the singletons (`legacy`, `poc`).
    Registered,
    /// This node released the singletons (`legacy`, `poc`).
    Released,
    /// `nodedown` dropped `peer`'s registration.
    RegistrationDropped {
        /// The lost owner.
        peer: NodeId,
    },
    /// This node asks whether a majority would vote for it in `term`.
    PreVoting {
        /// The term.
        term: Term,
    },
    /// This node asks for `term`.
    CandidateFor {
        /// The term.
        term: Term,
    },
    /// This node won `term`.
    Elected {
        /// The term.
        term: Term,
    },
    /// This node left its candidacy or leadership of `term` because it saw `newer`.
    SteppedDown {
        /// The term left.
        term: Term,
        /// The newer term seen.
        newer: Term,
    },
    /// This node gave up leading `term`: it no longer hears a majority (check-quorum).
    LostQuorum {
        /// The term given up.
        term: Term,
    },
    /// This node proposed a config change.
    Proposed {
        /// The term.
        term: Term,
        /// The proposed revision.
        revision: Revision,
    },
    /// A failover this node decided and committed.
    FailoverCommitted(FailoverRecord),
    /// The detector says `node` may be failed over, but the rules refuse.
    FailoverBlocked {
        /// The node that is down.
        node: NodeId,
        /// Why it is not failed over.
        reason: Blocked,
    },
    /// A peer sent a config of the same term and revision as this node's but different: two
    /// leaders of one term, which the protocol rules out. It was refused.
    ConflictingConfig {
        /// The sender.
        from: NodeId,
        /// The term.
        term: Term,
        /// The revision.
        revision: Revision,
    },
    /// This node lost its disk; it asks to be readmitted with the new one.
    Rejoining {
        /// The new disk.
        boot: Boot,
    },
    /// The cluster committed this node's new disk: it votes and accepts again.
    Rejoined {
        /// The new disk.
        boot: Boot,
    },
    /// A message that is stale or out of place was ignored.
    Ignored {
        /// The sender.
        from: NodeId,
        /// What it was.
        kind: &'static str,
    },
}

/// What the driver must do after one step. The contract is in the types: the messages
/// come out only once the state to persist has been taken out ([`Ready::take_persist`]) to
/// be written durably, so a driver cannot send a vote or an acceptance and forget the
/// promise it rests on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[must_use = "a Ready must be carried out: persist, then send"]
pub struct Ready {
    /// State to write durably before any message of this step leaves the node.
    pub(crate) persist: Option<Persistent>,
    /// Messages to send once `persist` (if any) is durable.
    pub(crate) messages: Vec<Outgoing>,
    /// A config this node committed or learned to be committed.
    pub commit: Option<Commit>,
    /// Facts worth logging.
    pub events: Vec<Event>,
}

/// [`Ready::messages`] was asked for while the state to persist was still in the `Ready`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "this step has state to persist: take it with take_persist and write it durably before sending"
)]
pub struct Unpersisted;

impl Ready {
    /// Whether the step changed nothing that the driver must see.
    pub fn is_empty(&self) -> bool {
        self.persist.is_none()
            && self.messages.is_empty()
            && self.commit.is_none()
            && self.events.is_empty()
    }

    /// The state this step must write durably before any of its messages leaves, if any.
    pub fn persist(&self) -> Option<&Persistent> {
        self.persist.as_ref()
    }

    /// Takes the state to persist out of this step: write it durably, then take the
    /// messages with [`Ready::messages`].
    pub fn take_persist(&mut self) -> Option<Persistent> {
        self.persist.take()
    }

    /// Takes the messages of this step, to send now. Refused while the state to persist is
    /// still here: take it with [`Ready::take_persist`] and write it first.
    pub fn messages(&mut self) -> Result<Vec<Outgoing>, Unpersisted> {
        if self.persist.is_some() {
            return Err(Unpersisted);
        }
        Ok(std::mem::take(&mut self.messages))
    }
}

/// A refused input. The node's state is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StepError {
    /// A message or notice names a node that is not a peer.
    #[error("{0} is not a peer of this node")]
    UnknownPeer(NodeId),
    /// An admin command was refused.
    #[error(transparent)]
    Admin(#[from] AdminRefusal),
}

/// A persisted state that cannot be restarted with these parameters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RestartError {
    /// The state's config names other members than the parameters do.
    #[error("the state is for members {stored:?}, but the parameters name {configured:?}")]
    OtherMembers {
        /// Members in the persisted config.
        stored: Vec<NodeId>,
        /// Members in the parameters.
        configured: Vec<NodeId>,
    },
}

/// The state of one node: persistent part plus volatile detection, registry and role.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NodeState {
    /// What is (or must be) on disk.
    pub persistent: Persistent,
    /// Down counters of the peers.
    pub detector: Detector,
    /// Singleton registry view (`legacy`, `poc`).
    pub registry: Registry,
    /// Part in the `fenced` protocol.
    pub role: Role,
    /// Highest term heard of in a refusal (`fenced`).
    pub seen_term: Term,
    /// The orchestrator this node follows, and its term (`fenced`): the node it voted for
    /// or accepted from, or a peer whose heartbeat says it leads a term not older than this
    /// node's promise. Dropped when that node's heartbeat says it gave the term up.
    pub leader: Option<(NodeId, Term)>,
    /// Peers whose last heartbeat said they hear no majority (`fenced`): they cannot lead,
    /// so nobody waits for them.
    pub deaf: BTreeSet<NodeId>,
    /// Ticks since this node's auto-failover started, capped at the threshold (`legacy`
    /// only, where counters start cold; 0 elsewhere).
    pub warm: Ticks,
}

impl NodeState {
    /// A node starting from `persistent` (fresh or read from disk): it hears every peer as
    /// just seen and holds no role. A state whose config names other members than
    /// `params` (another cluster's disk, or a config edited since) is refused.
    pub fn restart(params: &Params, persistent: Persistent) -> Result<Self, RestartError> {
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
            deaf: BTreeSet::new(),
            warm: 0,
        }
    }

    /// A member of a brand-new cluster, from the first config (every member starts from the
    /// same one). Its first state must be persisted before it starts.
    pub fn bootstrap(params: &Params, settings: Settings) -> Self {
        NodeState::start(params, Persistent::fresh(params, settings))
    }

    /// A node whose disk was lost, starting on the new disk `boot` (a value never used
    /// before by this node). It votes and accepts nothing until the cluster has committed
    /// `boot` as its disk, so that promises made by the lost disk are never broken. Its
    /// first state must be persisted before it starts.
    pub fn rejoin(params: &Params, settings: Settings, boot: Boot) -> Self {
        NodeState::start(params, Persistent::blank(params, settings, boot))
    }

    /// A node of a settled cluster whose orchestrator is `orchestrator`, in term 1 for
    /// `fenced`. The model starts from here; every node must be built with the same values.
    pub fn settled(params: &Params, settings: Settings, orchestrator: NodeId) -> Self {
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

    /// The current cluster config as this node knows it.
    pub fn config(&self) -> &SharedConfig {
        &self.persistent.config
    }

    /// The term this node leads, if it leads one.
    pub fn leader_term(&self) -> Option<Term> {
        match self.role {
            Role::Leader { term, .. } => Some(term),
            _ => None,
        }
    }

    /// Whether this node acts as orchestrator by its own view.
    pub fn is_orchestrator(&self, params: &Params) -> bool {
        match params.design {
            Design::Fenced => self.leader_term().is_some(),
            Design::Legacy | Design::Poc => self.registry.owner() == Some(params.id),
        }
    }

    /// The orchestrator this node hears acting (itself if it leads), or none: the config's
    /// record of the last orchestrator is no sign that it still acts.
    pub fn orchestrator(&self, params: &Params) -> Option<NodeId> {
        match params.design {
            Design::Fenced => self.heard_leader(params, None),
            Design::Legacy | Design::Poc => self.registry.owner(),
        }
    }

    /// The master as this node sees it.
    pub fn master(&self, params: &Params) -> NodeId {
        let eligible = |n: NodeId| n == params.id || !self.deaf.contains(&n);
        election::master(params, self.config(), &self.detector, eligible)
    }

    /// Whether this node hears a majority of the members, itself included: the peers it
    /// heard within the master timeout.
    pub fn has_quorum(&self, params: &Params) -> bool {
        let heard = params
            .peers()
            .filter(|p| election::seen_up(params, &self.detector, *p))
            .count();
        heard + 1 >= params.majority()
    }

    /// The heartbeat this node sends on every tick.
    pub fn heartbeat(&self, params: &Params) -> Message {
        let fenced = params.design == Design::Fenced;
        let office = match &self.role {
            Role::Leader { term, .. } if fenced => Office::Leader(*term),
            Role::Candidate(e) if fenced => Office::Candidate(e.term),
            _ => Office::None,
        };
        Message::Heartbeat {
            orchestrator: !fenced && self.is_orchestrator(params),
            office,
            quorum: self.has_quorum(params),
            accepted_term: self.persistent.accepted_term,
            revision: self.config().revision,
        }
    }

    /// The highest term this node knows of.
    pub fn term(&self) -> Term {
        let followed = self.leader.map_or(0, |(_, t)| t);
        self.persistent.promised.max(self.seen_term).max(followed)
    }

    /// Feeds one input; see the module docs for the calling contract.
    pub fn step(&mut self, params: &Params, input: Input) -> Result<Ready, StepError> {
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
            .max(self.leader.map_or(0, |(_, t)| t));
        if self.seen_term <= known {
            self.seen_term = 0;
        }
        if self.persistent != before {
            ready.persist = Some(self.persistent.clone());
        }
        Ok(ready)
    }

    fn check_peer(&self, params: &Params, peer: NodeId) -> Result<(), StepError> {
        if peer == params.id || !params.is_member(peer) {
            Err(StepError::UnknownPeer(peer))
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
