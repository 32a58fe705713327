//! One node: the single entry point [`NodeState::step`] that takes an [`Input`] and returns a
//! [`Ready`] of what the driver must do.
//!
//! Calling contract (the driver MUST follow it):
//! 1. Feed inputs one at a time: `Tick` once per detection interval, every message, every
//!    `nodedown`, every admin command.
//! 2. If `Ready::persist` is set, write it durably **before** sending any of
//!    `Ready::messages`; until then feed no other input. Messages may be sent in any order,
//!    lost or duplicated: the protocol copes.
//! 3. `Ready::commit` and `Ready::events` are facts to act on and to log.
//! 4. After a restart, build the node with [`NodeState::restart`] from the last persisted
//!    [`Persistent`].

use crate::config::{ClusterConfig, FailoverRecord, Settings};
use crate::detector::{Detector, Health};
use crate::election;
use crate::ids::{NodeId, Revision, Term, Ticks};
use crate::message::{Message, Outgoing};
use crate::params::{Design, Params};
use crate::quorum::{self, Election, Proposal};
use crate::registry::Registry;
use crate::rules::{self, Blocked};
use serde::{Deserialize, Serialize};

/// What a node keeps on disk.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Persistent {
    /// Highest term this node voted for or accepted (`fenced`); it refuses older ones.
    pub promised: Term,
    /// Term in which `config` was accepted (`fenced`), else 0.
    pub accepted_term: Term,
    /// The newest cluster config this node accepted or adopted.
    pub config: ClusterConfig,
}

impl Persistent {
    /// The state of a brand-new node.
    pub fn fresh(params: &Params, settings: Settings) -> Self {
        Persistent {
            promised: 0,
            accepted_term: 0,
            config: ClusterConfig::initial(params.members.keys().copied(), settings),
        }
    }
}

/// A node's part in the `fenced` protocol.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    /// Neither candidate nor leader.
    Follower,
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

/// An administrator's command; only the orchestrator takes them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AdminCommand {
    /// Changes the auto-failover settings.
    SetSettings(Settings),
    /// Resets the failover count (opens a new quota period).
    ResetCount,
    /// Starts a rebalance run by the orchestrator.
    StartRebalance,
    /// Stops the running rebalance.
    StopRebalance,
}

/// One input of a node.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Input {
    /// One detection interval elapsed.
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

/// A config this node committed: in `fenced` accepted by a majority in `term`; elsewhere
/// applied by its author.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Commit {
    /// The committing term (0 outside `fenced`).
    pub term: Term,
    /// The committing node.
    pub by: NodeId,
    /// The committed config.
    pub config: ClusterConfig,
}

/// Something worth logging.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
    /// This node learned from a peer's `Commit` that the config it now holds is committed
    /// (adopted from the commit, or the one it had already accepted).
    CommitLearned {
        /// Its revision.
        revision: Revision,
    },
    /// A message that is stale or out of place was ignored.
    Ignored {
        /// The sender.
        from: NodeId,
        /// What it was.
        kind: &'static str,
    },
}

/// What the driver must do after one step.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[must_use = "a Ready must be carried out: persist, then send"]
pub struct Ready {
    /// State to write durably before any message of this step leaves the node.
    pub persist: Option<Persistent>,
    /// Messages to send once `persist` (if any) is durable.
    pub messages: Vec<Outgoing>,
    /// A config this node committed.
    pub commit: Option<Commit>,
    /// Facts worth logging.
    pub events: Vec<Event>,
}

impl Ready {
    /// Whether the step changed nothing that the driver must see.
    pub fn is_empty(&self) -> bool {
        self.persist.is_none()
            && self.messages.is_empty()
            && self.commit.is_none()
            && self.events.is_empty()
    }
}

/// A refused input. The node's state is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    /// A message or notice names a node that is not a peer.
    #[error("{0} is not a peer of this node")]
    UnknownPeer(NodeId),
    /// An admin command sent to a node that is not the orchestrator.
    #[error(
        "this node is not the orchestrator (ask {})",
        .0.map_or("nobody known".to_string(), |n| n.to_string())
    )]
    NotOrchestrator(Option<NodeId>),
    /// An admin command while a change is still being committed.
    #[error("a config change is being committed; retry")]
    Busy,
    /// The command makes no sense in the current config.
    #[error("{0}")]
    Rejected(&'static str),
}

/// The state of one node: persistent part plus volatile detection, registry and role.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NodeState {
    /// What survives a restart.
    pub persistent: Persistent,
    /// Down counters of the peers.
    pub detector: Detector,
    /// Singleton registry view (`legacy`, `poc`).
    pub registry: Registry,
    /// Part in the `fenced` protocol.
    pub role: Role,
    /// Highest term heard of in a refusal (`fenced`).
    pub seen_term: Term,
    /// The node this one last voted for or accepted a proposal from (`fenced`): the
    /// orchestrator to wait for before its commit arrives.
    pub leader_hint: Option<NodeId>,
    /// Ticks since this node's auto-failover started, capped at the threshold (`legacy`
    /// only, where counters start cold; 0 elsewhere).
    pub warm: Ticks,
}

impl NodeState {
    /// A node starting from `persistent` (fresh or read from disk): it hears every peer as
    /// just seen and holds no role.
    pub fn restart(params: &Params, persistent: Persistent) -> Self {
        NodeState {
            persistent,
            detector: Detector::new(params.peers()),
            registry: Registry::default(),
            role: Role::Follower,
            seen_term: 0,
            leader_hint: None,
            warm: 0,
        }
    }

    /// A node of a settled cluster whose orchestrator is `orchestrator`, in term 1 for
    /// `fenced`. The model starts from here; every node must be built with the same values.
    pub fn settled(params: &Params, settings: Settings, orchestrator: NodeId) -> Self {
        let mut persistent = Persistent::fresh(params, settings);
        let fenced = params.design == Design::Fenced;
        if fenced {
            persistent.promised = 1;
            persistent.accepted_term = 1;
            persistent.config.orchestrator = Some(orchestrator);
            persistent.config.term = 1;
        }
        let mut node = NodeState::restart(params, persistent);
        if params.design == Design::Legacy {
            node.warm = settings.timeout_ticks;
        }
        if fenced && params.id == orchestrator {
            node.role = Role::Leader {
                term: 1,
                proposal: None,
            };
        }
        if !fenced {
            node.registry = Registry::held_by(orchestrator);
        }
        node
    }

    /// The current cluster config as this node knows it.
    pub fn config(&self) -> &ClusterConfig {
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

    /// The orchestrator as this node knows it.
    pub fn orchestrator(&self, params: &Params) -> Option<NodeId> {
        match params.design {
            Design::Fenced if self.leader_term().is_some() => Some(params.id),
            Design::Fenced => self.config().orchestrator,
            Design::Legacy | Design::Poc => self.registry.owner(),
        }
    }

    /// The master as this node sees it.
    pub fn master(&self, params: &Params) -> NodeId {
        election::master(params, self.config(), &self.detector)
    }

    /// The heartbeat this node sends on every tick.
    pub fn heartbeat(&self, params: &Params) -> Message {
        Message::Heartbeat {
            orchestrator: params.design != Design::Fenced && self.is_orchestrator(params),
            revision: self.config().revision,
        }
    }

    /// The highest term this node knows of.
    pub fn term(&self) -> Term {
        self.persistent.promised.max(self.seen_term)
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
                self.on_message(params, from, msg, &mut ready);
            }
            Input::NodeDown { peer } => {
                self.check_peer(params, peer)?;
                if params.design != Design::Fenced && self.registry.on_nodedown(peer) {
                    ready.events.push(Event::RegistrationDropped { peer });
                }
            }
            Input::Admin(command) => self.on_admin(params, command, &mut ready)?,
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

    fn active(&self, params: &Params) -> bool {
        self.config().is_active(params.id)
    }

    fn threshold(&self) -> Ticks {
        self.config().settings.timeout_ticks.max(1)
    }

    fn broadcast(params: &Params, msg: &Message, ready: &mut Ready) {
        for to in params.peers() {
            ready.messages.push(Outgoing {
                to,
                msg: msg.clone(),
            });
        }
    }

    // ---- tick ------------------------------------------------------------------------

    fn on_tick(&mut self, params: &Params, ready: &mut Ready) {
        let threshold = self.threshold();
        let watched: Vec<NodeId> = params
            .peers()
            .filter(|p| self.config().is_active(*p))
            .collect();
        for (peer, health) in self.detector.tick(watched, threshold) {
            ready.events.push(Event::HealthChanged { peer, health });
        }
        if params.design == Design::Legacy {
            self.warm = (self.warm + 1).min(threshold);
        }
        Self::broadcast(params, &self.heartbeat(params), ready);
        if !self.active(params) {
            return;
        }
        match params.design {
            Design::Legacy | Design::Poc => {
                self.maintain_registry(params, ready);
                self.act_unfenced(params, ready);
            }
            Design::Fenced => {
                self.retransmit(params, ready);
                self.act_fenced(params, ready);
            }
        }
    }

    // ---- legacy and poc --------------------------------------------------------------

    /// The master registers the singletons when the entry is free; a holder that is no
    /// longer master releases them (`mb_master` surrender).
    fn maintain_registry(&mut self, params: &Params, ready: &mut Ready) {
        let is_master = self.master(params) == params.id;
        if is_master && self.registry.register(params.id) {
            self.warm = 0; // legacy: the new singleton starts with cold counters
            ready.events.push(Event::Registered);
        } else if !is_master && self.registry.release(params.id) {
            ready.events.push(Event::Released);
        }
    }

    fn act_unfenced(&mut self, params: &Params, ready: &mut Ready) {
        let threshold = self.threshold();
        let warm = match params.design {
            Design::Legacy => self.warm,
            _ => Ticks::MAX,
        };
        let Some(target) = self.detector.candidate(threshold, warm) else {
            return;
        };
        let orchestrator = self.is_orchestrator(params);
        // The origin's rule: a non-orchestrator node fails over the orchestrator it knows when
        // its own logic says the orchestrator is down and it is the new master.
        let takes_over_old_orchestrator = params.design == Design::Poc
            && !orchestrator
            && self.registry.owner() == Some(target)
            && self.master(params) == params.id;
        if !(orchestrator || takes_over_old_orchestrator) {
            return;
        }
        match rules::check_failover(self.config(), target) {
            Ok(()) => {
                let mut next = self.config().next_revision();
                rules::apply_failover(&mut next, target, params.id, 0);
                self.commit_locally(params, next, ready);
            }
            Err(reason) => ready.events.push(Event::FailoverBlocked {
                node: target,
                reason,
            }),
        }
    }

    /// `legacy` and `poc` apply a change at once and tell the peers: no quorum.
    fn commit_locally(&mut self, params: &Params, next: ClusterConfig, ready: &mut Ready) {
        self.persistent.config = next.clone();
        self.report_commit(params, 0, &next, ready);
        Self::broadcast(
            params,
            &Message::Commit {
                term: 0,
                config: next,
            },
            ready,
        );
    }

    fn report_commit(
        &self,
        params: &Params,
        term: Term,
        config: &ClusterConfig,
        ready: &mut Ready,
    ) {
        for record in &config.history {
            if record.revision == config.revision && record.issuer == params.id {
                ready.events.push(Event::FailoverCommitted(*record));
            }
        }
        ready.commit = Some(Commit {
            term,
            by: params.id,
            config: config.clone(),
        });
    }

    // ---- fenced ----------------------------------------------------------------------

    fn retransmit(&self, params: &Params, ready: &mut Ready) {
        let p = &self.persistent;
        match &self.role {
            Role::Candidate(e) => {
                for to in params.peers().filter(|n| !e.voters.contains(n)) {
                    ready.messages.push(Outgoing {
                        to,
                        msg: Message::RequestVote { term: e.term },
                    });
                }
            }
            Role::Leader {
                term,
                proposal: Some(proposal),
            } => {
                for to in params.peers().filter(|n| !proposal.acks.contains(n)) {
                    ready.messages.push(Outgoing {
                        to,
                        msg: Message::Propose {
                            term: *term,
                            config: p.config.clone(),
                        },
                    });
                }
            }
            _ => {}
        }
    }

    /// Whether the orchestrator this node knows is alive and active as far as it can tell.
    fn orchestrator_seen_up(&self, params: &Params) -> bool {
        match self.leader_hint.or(self.config().orchestrator) {
            Some(o) if o != params.id => {
                self.config().is_active(o) && election::seen_up(params, &self.detector, o)
            }
            _ => false,
        }
    }

    fn act_fenced(&mut self, params: &Params, ready: &mut Ready) {
        match &self.role {
            Role::Leader {
                term,
                proposal: None,
            } => {
                let term = *term;
                let base = self.config().clone();
                if let Some(next) = self.plan_change(params, term, &base, ready) {
                    self.propose(params, term, next, ready);
                }
            }
            Role::Follower
                if self.master(params) == params.id && !self.orchestrator_seen_up(params) =>
            {
                self.start_election(params, ready);
            }
            _ => {}
        }
    }

    /// The change a leader of `term` makes to `base`: record itself as orchestrator if the
    /// config does not say so yet, and fail over the detector's candidate if the rules allow.
    fn plan_change(
        &self,
        params: &Params,
        term: Term,
        base: &ClusterConfig,
        ready: &mut Ready,
    ) -> Option<ClusterConfig> {
        let mut next = base.next_revision();
        let mut changed = false;
        if base.orchestrator != Some(params.id) || base.term != term {
            next.orchestrator = Some(params.id);
            next.term = term;
            changed = true;
        }
        if let Some(target) = self.detector.candidate(self.threshold(), Ticks::MAX) {
            match rules::check_failover(&next, target) {
                Ok(()) => {
                    rules::apply_failover(&mut next, target, params.id, term);
                    changed = true;
                }
                Err(reason) => ready.events.push(Event::FailoverBlocked {
                    node: target,
                    reason,
                }),
            }
        }
        changed.then_some(next)
    }

    fn start_election(&mut self, params: &Params, ready: &mut Ready) {
        let term = self.term() + 1;
        self.persistent.promised = term;
        let p = &self.persistent;
        let election = Election::new(term, params.id, p.accepted_term, p.config.clone());
        ready.events.push(Event::CandidateFor { term });
        self.role = Role::Candidate(election);
        Self::broadcast(params, &Message::RequestVote { term }, ready);
        self.check_election(params, ready);
    }

    fn check_election(&mut self, params: &Params, ready: &mut Ready) {
        let Role::Candidate(e) = &self.role else {
            return;
        };
        if !e.won(params.members.len()) {
            return;
        }
        let term = e.term;
        let base = e.newest.clone();
        if !base.is_active(params.id) {
            // The majority's newest config failed this node over: it may not lead. It waits,
            // as a follower, for the leader's commit to reach it.
            ready.events.push(Event::SteppedDown { term, newer: term });
            self.role = Role::Follower;
            return;
        }
        ready.events.push(Event::Elected { term });
        self.role = Role::Leader {
            term,
            proposal: None,
        };
        // The winner always commits once in its term, building on the newest config the
        // majority returned: this re-checks any failover against it and fences older terms.
        if let Some(next) = self.plan_change(params, term, &base, ready) {
            self.propose(params, term, next, ready);
        }
    }

    fn propose(&mut self, params: &Params, term: Term, next: ClusterConfig, ready: &mut Ready) {
        self.persistent.accepted_term = term;
        self.persistent.config = next.clone();
        ready.events.push(Event::Proposed {
            term,
            revision: next.revision,
        });
        self.role = Role::Leader {
            term,
            proposal: Some(Proposal {
                config: next.clone(),
                acks: [params.id].into(),
            }),
        };
        Self::broadcast(params, &Message::Propose { term, config: next }, ready);
        self.check_commit(params, ready);
    }

    fn check_commit(&mut self, params: &Params, ready: &mut Ready) {
        let Role::Leader {
            term,
            proposal: Some(proposal),
        } = &self.role
        else {
            return;
        };
        if !proposal.committed(params.members.len()) {
            return;
        }
        let term = *term;
        let config = proposal.config.clone();
        self.role = Role::Leader {
            term,
            proposal: None,
        };
        self.report_commit(params, term, &config, ready);
        Self::broadcast(params, &Message::Commit { term, config }, ready);
    }

    fn step_down(&mut self, newer: Term, ready: &mut Ready) {
        let term = match &self.role {
            Role::Follower => return,
            Role::Candidate(e) => e.term,
            Role::Leader { term, .. } => *term,
        };
        if newer > term {
            ready.events.push(Event::SteppedDown { term, newer });
            self.role = Role::Follower;
        }
    }

    /// Accepts `config` of `term` if the term is not older than promised and the config is
    /// newer than the accepted one. Returns whether it did.
    fn accept(&mut self, term: Term, config: &ClusterConfig, ready: &mut Ready) -> bool {
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

    // ---- messages --------------------------------------------------------------------

    fn on_message(&mut self, params: &Params, from: NodeId, msg: Message, ready: &mut Ready) {
        let kind = msg.kind();
        let fenced = params.design == Design::Fenced;
        match msg {
            Message::Heartbeat {
                orchestrator,
                revision,
            } => {
                if fenced {
                    self.catch_up(from, revision, ready);
                } else {
                    let outranks = |a, b| election::outranks(params, a, b);
                    let was = self.is_orchestrator(params);
                    self.registry.on_heartbeat(from, orchestrator, outranks);
                    if was && !self.is_orchestrator(params) {
                        ready.events.push(Event::Released);
                    }
                }
            }
            Message::Commit { term, config } => {
                let p = &self.persistent;
                let held = term == p.accepted_term && config == p.config;
                if !held && self.accept(term, &config, ready) {
                    if fenced {
                        self.leader_hint = Some(from);
                    }
                    ready.events.push(Event::CommitLearned {
                        revision: config.revision,
                    });
                    if fenced && !self.active(params) {
                        self.step_down(Term::MAX, ready);
                    }
                } else if held {
                    ready.events.push(Event::CommitLearned {
                        revision: config.revision,
                    });
                } else {
                    ready.events.push(Event::Ignored { from, kind });
                }
            }
            _ if !fenced => ready.events.push(Event::Ignored { from, kind }),
            Message::RequestVote { term } => {
                let p = &self.persistent;
                // A node this one knows as failed over (restarted with an older config) may
                // not lead; refusing costs nothing but its candidacy.
                let reply = if term > p.promised && p.config.is_active(from) {
                    self.step_down(term, ready);
                    self.persistent.promised = term;
                    self.leader_hint = Some(from);
                    let p = &self.persistent;
                    Message::Vote {
                        term,
                        accepted_term: p.accepted_term,
                        config: p.config.clone(),
                    }
                } else {
                    Message::Reject {
                        term,
                        promised: p.promised,
                    }
                };
                ready.messages.push(Outgoing {
                    to: from,
                    msg: reply,
                });
            }
            Message::Vote {
                term,
                accepted_term,
                config,
            } => match &mut self.role {
                Role::Candidate(e) if e.term == term => {
                    e.add_vote(from, accepted_term, &config);
                    self.check_election(params, ready);
                }
                _ => ready.events.push(Event::Ignored { from, kind }),
            },
            Message::Propose { term, config } => {
                let p = &self.persistent;
                let already = term == p.accepted_term && config.revision == p.config.revision;
                if already || self.accept(term, &config, ready) {
                    self.leader_hint = Some(from);
                    ready.messages.push(Outgoing {
                        to: from,
                        msg: Message::Accepted {
                            term,
                            revision: config.revision,
                        },
                    });
                } else if term < self.persistent.promised {
                    ready.messages.push(Outgoing {
                        to: from,
                        msg: Message::Reject {
                            term,
                            promised: self.persistent.promised,
                        },
                    });
                } else {
                    ready.events.push(Event::Ignored { from, kind });
                }
            }
            Message::Accepted { term, revision } => match &mut self.role {
                Role::Leader {
                    term: t,
                    proposal: Some(proposal),
                } if *t == term && proposal.config.revision == revision => {
                    proposal.acks.insert(from);
                    self.check_commit(params, ready);
                    if self.leader_term().is_some() {
                        // The next change may be due already (a second down node, say).
                        self.act_fenced(params, ready);
                    }
                }
                _ => ready.events.push(Event::Ignored { from, kind }),
            },
            Message::Reject { term, promised } => {
                self.seen_term = self.seen_term.max(promised);
                match &self.role {
                    // A voter promised this term (to another candidate, or to this one in a
                    // vote that was lost): give it up; the next tick asks for a newer one.
                    Role::Candidate(e) if e.term == term => {
                        ready.events.push(Event::SteppedDown {
                            term,
                            newer: promised,
                        });
                        self.role = Role::Follower;
                    }
                    Role::Leader { term: mine, .. } if *mine == term => {
                        self.step_down(promised, ready)
                    }
                    _ => ready.events.push(Event::Ignored { from, kind }),
                }
            }
        }
    }

    /// A leader with nothing pending holds a config committed in its term; a peer whose
    /// heartbeat shows an older revision missed that commit, so it gets it again.
    fn catch_up(&self, peer: NodeId, revision: Revision, ready: &mut Ready) {
        if let Role::Leader {
            term,
            proposal: None,
        } = self.role
        {
            if revision < self.config().revision {
                ready.messages.push(Outgoing {
                    to: peer,
                    msg: Message::Commit {
                        term,
                        config: self.config().clone(),
                    },
                });
            }
        }
    }

    // ---- admin -----------------------------------------------------------------------

    fn on_admin(
        &mut self,
        params: &Params,
        command: AdminCommand,
        ready: &mut Ready,
    ) -> Result<(), StepError> {
        if !self.active(params) {
            return Err(StepError::Rejected("this node has been failed over"));
        }
        let leader_term = match params.design {
            Design::Fenced => match &self.role {
                Role::Leader {
                    proposal: Some(_), ..
                } => return Err(StepError::Busy),
                Role::Leader { term, .. } if self.config().orchestrator == Some(params.id) => {
                    Some(*term)
                }
                _ => return Err(StepError::NotOrchestrator(self.orchestrator(params))),
            },
            Design::Legacy | Design::Poc => {
                if !self.is_orchestrator(params) {
                    return Err(StepError::NotOrchestrator(self.orchestrator(params)));
                }
                None
            }
        };
        let mut next = self.config().next_revision();
        match command {
            AdminCommand::SetSettings(settings) => {
                if settings.timeout_ticks == 0 {
                    return Err(StepError::Rejected("timeout must be at least one tick"));
                }
                if settings.max_count == 0 {
                    return Err(StepError::Rejected("max count must be at least 1"));
                }
                next.settings = settings;
            }
            AdminCommand::ResetCount => {
                next.failover_count = 0;
                next.quota_epoch += 1;
            }
            AdminCommand::StartRebalance => {
                if next.rebalance.is_some() {
                    return Err(StepError::Rejected("a rebalance is already running"));
                }
                next.rebalance = Some(params.id);
            }
            AdminCommand::StopRebalance => {
                if next.rebalance.is_none() {
                    return Err(StepError::Rejected("no rebalance is running"));
                }
                next.rebalance = None;
            }
        }
        match leader_term {
            Some(term) => self.propose(params, term, next, ready),
            None => self.commit_locally(params, next, ready),
        }
        Ok(())
    }
}
