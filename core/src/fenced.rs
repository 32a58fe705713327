//! The `fenced` design: warm detection on every node, terms won from a majority, every
//! config change committed at a majority.
//!
//! - **Taking office.** The master (best priority among the active peers it hears that
//!   hear a majority) that hears no live orchestrator first asks for a *pre-vote*; only
//!   when a majority says yes does it promise a term and ask for votes. A node that hears
//!   a live orchestrator says no to both (leader stickiness), so a flapping link or a node
//!   cut off alone never raises terms or deposes a working orchestrator.
//! - **Check-quorum.** A leader that no longer hears a majority gives up office, and says
//!   so in its heartbeats; its peers stop waiting for it even if they still hear it (the
//!   deaf orchestrator), so a node that hears a majority takes over.
//! - **Committing.** The winner builds on the newest config its voters returned, records
//!   itself as orchestrator, ends a rebalance of an older term, and fails the detector's
//!   candidate over if the rules allow it against that config; every change is proposed in
//!   its term and committed when a majority persisted it.
//! - **Rejoining.** A node that lost its disk votes and accepts nothing until the
//!   orchestrator has committed its new disk; votes and acceptances of a disk the config
//!   no longer names are not counted.

use crate::config::{ClusterConfig, SharedConfig};
use crate::detector::Health;
use crate::election;
use crate::event::Event;
use crate::ids::{NodeId, Revision, Term, Ticks};
use crate::message::{Message, MessageKind, Office, Outgoing};
use crate::params::Params;
use crate::quorum::{Election, PreElection, Proposal};
use crate::ready::Ready;
use crate::rules::Blocked;
use crate::state::{NodeState, Role};
use crate::{rebalance, rules};
use std::collections::BTreeSet;

impl NodeState {
    /// The live orchestrator this node hears, other than `except`: the node it follows,
    /// while that node is heard, says it hears a majority, and leads (or asks for) a term
    /// not older than this node's promise. A leader hears itself.
    pub(crate) fn heard_leader(&self, params: &Params, except: Option<NodeId>) -> Option<NodeId> {
        if self.leader_term().is_some() && except != Some(params.id) {
            return Some(params.id);
        }
        let (leader, term) = self.leader?;
        let heard =
            election::seen_up(params, &self.detector, leader) || self.accepted_from == Some(leader);
        let live = Some(leader) != except
            && leader != params.id
            && heard
            && !self.cannot_lead.contains(&leader)
            && term >= self.persistent.promised;
        live.then_some(leader)
    }

    fn seeks_office(&self, params: &Params) -> bool {
        !self.persistent.rejoining
            && self.active(params)
            && self.has_quorum(params)
            && self.master(params) == params.id
            && self.heard_leader(params, None).is_none()
    }

    // ---- tick ------------------------------------------------------------------------

    pub(crate) fn tick_fenced(&mut self, params: &Params, ready: &mut Ready) {
        if !self.has_quorum(params) {
            match &self.role {
                Role::Leader { term, .. } => {
                    ready.events.push(Event::LostQuorum { term: *term });
                    self.role = Role::Follower;
                }
                Role::PreCandidate(_) | Role::Candidate(_) => self.step_down(Term::MAX, ready),
                Role::Follower => {}
            }
        }
        Self::broadcast(params, &self.heartbeat(params), ready);
        if self.persistent.rejoining {
            let boot = self.persistent.boot;
            ready.events.push(Event::Rejoining { boot });
            Self::broadcast(params, &Message::Rejoin { boot }, ready);
            return;
        }
        if !self.active(params) {
            return;
        }
        self.retransmit(params, ready);
        match &self.role {
            Role::Leader {
                term,
                proposal: None,
            } => {
                let term = *term;
                let base = self.config().clone();
                if let Some(next) = self.plan_change(params, term, &base, true, ready) {
                    self.propose(params, term, next, ready);
                }
            }
            Role::Follower if self.seeks_office(params) => self.start_pre_vote(params, ready),
            Role::PreCandidate(_) if !self.seeks_office(params) => self.step_down(Term::MAX, ready),
            _ => {}
        }
    }

    fn retransmit(&self, params: &Params, ready: &mut Ready) {
        let p = &self.persistent;
        let (msg, answered): (Message, Vec<NodeId>) = match &self.role {
            Role::PreCandidate(pre) => (
                Message::PreVote { term: pre.term },
                pre.granted.iter().copied().collect(),
            ),
            Role::Candidate(e) => (
                Message::RequestVote { term: e.term },
                e.voters.keys().copied().collect(),
            ),
            Role::Leader {
                term,
                proposal: Some(proposal),
            } => (
                Message::Propose {
                    term: *term,
                    config: p.config.clone(),
                },
                proposal.acks.keys().copied().collect(),
            ),
            _ => return,
        };
        for to in params.peers().filter(|n| !answered.contains(n)) {
            ready.messages.push(Outgoing {
                to,
                msg: msg.clone(),
            });
        }
    }

    /// The change a leader of `term` makes to `base`: record itself as orchestrator, end a
    /// rebalance of an older term, fail over the detector's candidate if the rules allow,
    /// and (on a tick) commit the next step of its own rebalance.
    fn plan_change(
        &self,
        params: &Params,
        term: Term,
        base: &ClusterConfig,
        tick: bool,
        ready: &mut Ready,
    ) -> Option<ClusterConfig> {
        let mut next = base.next_revision();
        let mut changed = false;
        if base.orchestrator != Some(params.id) || base.term != term {
            next.orchestrator = Some(params.id);
            next.term = term;
            changed = true;
        }
        changed |= rebalance::end_if_orphaned(&mut next, term);
        let active = |p: NodeId| base.is_active(p);
        let candidate = self
            .detector
            .candidate(self.threshold(), Ticks::MAX, active);
        if candidate.is_none() {
            // Say why a node that is due is not failed over: others are down with it.
            for node in self.detector.down_set(self.threshold()) {
                if active(node) && self.detector.health(node, self.threshold()) == Health::Failover
                {
                    let reason = Blocked::OthersDown;
                    ready.events.push(Event::FailoverBlocked { node, reason });
                }
            }
        }
        if let Some(target) = candidate {
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
        if tick && rebalance::step_due(&next, params.id, term) {
            rebalance::step(&mut next);
            changed = true;
        }
        changed.then_some(next)
    }

    fn start_pre_vote(&mut self, params: &Params, ready: &mut Ready) {
        let term = self.term() + 1;
        self.ask_pre_votes(params, term, [params.id].into(), ready);
    }

    /// Becomes a pre-candidate for `term` with the grants `granted`, and asks the others.
    fn ask_pre_votes(
        &mut self,
        params: &Params,
        term: Term,
        granted: BTreeSet<NodeId>,
        ready: &mut Ready,
    ) {
        ready.events.push(Event::PreVoting { term });
        let asked: Vec<NodeId> = params.peers().filter(|n| !granted.contains(n)).collect();
        self.role = Role::PreCandidate(PreElection {
            term,
            granted,
            refused: Default::default(),
        });
        for to in asked {
            Self::reply(ready, to, Message::PreVote { term });
        }
        self.check_pre_vote(params, ready);
    }

    fn check_pre_vote(&mut self, params: &Params, ready: &mut Ready) {
        let Role::PreCandidate(pre) = &self.role else {
            return;
        };
        if !pre.won(params.members.len()) {
            return;
        }
        let term = pre.term;
        if term > self.term() {
            self.start_election(params, term, ready);
        } else {
            self.step_down(Term::MAX, ready);
        }
    }

    fn start_election(&mut self, params: &Params, term: Term, ready: &mut Ready) {
        self.persistent.promised = term;
        self.leader = None;
        let p = &self.persistent;
        let election = Election::new(term, params.id, p.boot, p.accepted_term, p.config.clone());
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
        if let Some(next) = self.plan_change(params, term, &base, false, ready) {
            self.propose(params, term, next, ready);
        }
    }

    pub(crate) fn propose(
        &mut self,
        params: &Params,
        term: Term,
        next: ClusterConfig,
        ready: &mut Ready,
    ) {
        let next = SharedConfig::new(next);
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
                acks: [(params.id, self.persistent.boot)].into(),
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
        self.report_commit(params, term, params.id, &config, ready);
        Self::broadcast(params, &Message::Commit { term, config }, ready);
    }

    /// Follows `leader` in `term`: the orchestrator to wait for.
    fn follow(&mut self, leader: NodeId, term: Term) {
        self.leader = Some((leader, term));
    }

    /// Follows `leader` in `term` after accepting its proposal or commit: it is heard from
    /// now on, for leader stickiness, and a pre-candidacy of this node ends. A term below
    /// this node's promise (the same proposal again, after a vote for a newer term) is no
    /// leader to follow: the node it voted for stays the one it follows.
    fn follow_accepted(&mut self, params: &Params, leader: NodeId, term: Term, ready: &mut Ready) {
        if term < self.persistent.promised {
            return;
        }
        self.follow(leader, term);
        // Kept only while the detector does not see the leader up already: the detector
        // changes only at ticks, where this is cleared first, so equal behaviours stay
        // equal states.
        self.accepted_from = (!election::seen_up(params, &self.detector, leader)).then_some(leader);
        self.leave_pre_candidacy(term, ready);
    }

    /// Ends a pre-candidacy (of any term) when this node has chosen another node to follow
    /// in `term`: had it gone on, the pre-votes it collected would make it promise a term
    /// above the one it has just backed, and so depose that node as soon as it proposes.
    fn leave_pre_candidacy(&mut self, term: Term, ready: &mut Ready) {
        if let Role::PreCandidate(pre) = &self.role {
            let mine = pre.term;
            ready.events.push(Event::SteppedDown {
                term: mine,
                newer: term,
            });
            self.role = Role::Follower;
        }
    }

    fn reply(ready: &mut Ready, to: NodeId, msg: Message) {
        ready.messages.push(Outgoing { to, msg });
    }

    /// Refuses `term` to `to`, with this node's promise and pre-vote floor.
    fn refuse(&self, to: NodeId, term: Term, ready: &mut Ready) {
        let msg = Message::Reject {
            term,
            promised: self.persistent.promised,
            floor: self.persistent.pre_voted,
        };
        Self::reply(ready, to, msg);
    }

    /// Whether this node would vote for `candidate` in `term` (or grant it a pre-vote).
    fn would_vote(&self, params: &Params, candidate: NodeId, term: Term) -> bool {
        let p = &self.persistent;
        !p.rejoining
            && term > p.promised
            && term >= p.pre_voted
            && p.config.is_active(candidate)
            && self.heard_leader(params, Some(candidate)).is_none()
    }

    // ---- messages --------------------------------------------------------------------

    pub(crate) fn on_message_fenced(
        &mut self,
        params: &Params,
        from: NodeId,
        msg: Message,
        ready: &mut Ready,
    ) {
        let kind = msg.kind();
        match msg {
            Message::Heartbeat {
                office,
                can_lead,
                accepted_term,
                revision,
                ..
            } => self.on_heartbeat(from, office, can_lead, accepted_term, revision, ready),
            Message::PreVote { term } => {
                // Below a term it pre-voted for, it grants that term instead: the asker
                // starts again at it, so no orchestrator is elected below a pre-candidacy
                // that may still come back with a majority of grants.
                let at = term.max(self.persistent.pre_voted);
                if self.would_vote(params, from, at) {
                    self.persistent.pre_voted = at;
                    Self::reply(ready, from, Message::PreVoteGranted { term: at });
                } else {
                    // Say no, with the promise (a node back without its disk says no too):
                    // the asker counts the refusal, or gives up and asks above the promise.
                    self.refuse(from, term, ready);
                }
            }
            Message::PreVoteGranted { term } => match &mut self.role {
                Role::PreCandidate(pre) if pre.term == term => {
                    pre.granted.insert(from);
                    self.check_pre_vote(params, ready);
                }
                // A grant above the term asked for: the voter backs no lower one, so the
                // node asks the others for that term. The grants of the lower term do not
                // count for it: their voters may back a term in between, and a majority
                // counted from mixed terms would be the late majority this rule prevents.
                Role::PreCandidate(pre) if pre.term < term => {
                    self.ask_pre_votes(params, term, [params.id, from].into(), ready);
                }
                _ => ready.events.push(Event::Ignored { from, kind }),
            },
            Message::RequestVote { term } => {
                // The same vote again, to a candidate that asks again (its request or the
                // vote was lost, or duplicated): a vote is a promise, not a new one.
                let voted_for_it = self.persistent.promised == term
                    && self.leader == Some((from, term))
                    && !self.persistent.rejoining;
                if voted_for_it || self.would_vote(params, from, term) {
                    self.step_down(term, ready);
                    self.leave_pre_candidacy(term, ready);
                    self.persistent.promised = term;
                    self.follow(from, term);
                    let p = &self.persistent;
                    let vote = Message::Vote {
                        term,
                        accepted_term: p.accepted_term,
                        config: p.config.clone(),
                        boot: p.boot,
                    };
                    Self::reply(ready, from, vote);
                } else {
                    self.refuse(from, term, ready);
                }
            }
            Message::Vote {
                term,
                accepted_term,
                config,
                boot,
            } => match &mut self.role {
                Role::Candidate(e) if e.term == term => {
                    e.add_vote(from, boot, accepted_term, &config);
                    self.check_election(params, ready);
                }
                _ => ready.events.push(Event::Ignored { from, kind }),
            },
            Message::Propose { term, config } => self.on_propose(params, from, term, config, ready),
            Message::Accepted {
                term,
                revision,
                boot,
            } => match &mut self.role {
                Role::Leader {
                    term: t,
                    proposal: Some(proposal),
                } if *t == term && proposal.config.revision == revision => {
                    proposal.acks.insert(from, boot);
                    self.check_commit(params, ready);
                    if let Role::Leader {
                        term,
                        proposal: None,
                    } = self.role
                    {
                        // The next change may be due already (a second down node, say).
                        let base = self.config().clone();
                        if let Some(next) = self.plan_change(params, term, &base, false, ready) {
                            self.propose(params, term, next, ready);
                        }
                    }
                }
                _ => ready.events.push(Event::Ignored { from, kind }),
            },
            Message::Reject {
                term,
                promised,
                floor,
            } => {
                self.seen_term = self.seen_term.max(promised).max(floor);
                // The term's vote went elsewhere, or the voter backs only higher terms.
                let taken = promised >= term || floor > term;
                let members = params.members.len();
                match &mut self.role {
                    // A voter hears a live orchestrator, holds a config in which this node is
                    // out, or promised this term or a newer one. Such a refusal alone is no
                    // lost election: give it up once a majority can no longer say yes, or
                    // once the voter's promise shows the term's vote went elsewhere (a
                    // split vote: both candidates give up and ask above it later). Giving
                    // up on any refusal let one voter with a stale config keep the cluster
                    // from ever electing.
                    Role::PreCandidate(pre) if pre.term == term => {
                        pre.refused.insert(from);
                        if taken || pre.lost(members) {
                            self.role = Role::Follower;
                        }
                    }
                    Role::Candidate(e) if e.term == term => {
                        e.refused.insert(from);
                        if taken || e.lost(members) {
                            ready.events.push(Event::SteppedDown {
                                term,
                                newer: promised.max(floor),
                            });
                            self.role = Role::Follower;
                        }
                    }
                    // Only a promise deposes a leader: a voter's floor does not stop it
                    // from accepting this term's proposals.
                    Role::Leader { term: mine, .. } if *mine == term => {
                        self.step_down(promised, ready)
                    }
                    _ => ready.events.push(Event::Ignored { from, kind }),
                }
            }
            Message::Commit { term, config } => self.on_commit(params, from, term, config, ready),
            Message::Rejoin { boot } => match &self.role {
                Role::Leader {
                    term,
                    proposal: None,
                } if self.config().boot_of(from) != boot => {
                    let term = *term;
                    let mut next = self.config().next_revision();
                    next.boots.insert(from, boot);
                    self.propose(params, term, next, ready);
                }
                _ => ready.events.push(Event::Ignored { from, kind }),
            },
        }
    }

    fn on_heartbeat(
        &mut self,
        from: NodeId,
        office: Office,
        can_lead: bool,
        accepted_term: Term,
        revision: Revision,
        ready: &mut Ready,
    ) {
        if can_lead {
            self.cannot_lead.remove(&from);
        } else {
            self.cannot_lead.insert(from);
        }
        // A peer that accepted a config of a newer term shows that term won: an older
        // leader or candidate leaves office. Without this, an orchestrator that woke up
        // stale (and proposed nothing, so nobody refused it) went on leading its old
        // term, and as everyone's master kept the others from electing, for ever.
        if accepted_term > self.persistent.promised {
            self.seen_term = self.seen_term.max(accepted_term);
            self.step_down(accepted_term, ready);
        }
        let followed = self.leader.filter(|(leader, _)| *leader == from);
        match (office, followed) {
            (Office::Leader(t), _)
                if t >= self.persistent.promised
                    && self.leader.is_none_or(|(_, mine)| t >= mine) =>
            {
                self.leader = Some((from, t));
            }
            (Office::Leader(t), _) if t >= self.persistent.promised => {}
            (Office::Candidate(t) | Office::Leader(t), Some((_, mine))) if t >= mine => {}
            // The node followed gave its term up.
            (_, Some(_)) => self.leader = None,
            _ => {}
        }
        if let Office::Leader(t) = office {
            // A newer orchestrator exists: leave an older candidacy or leadership.
            let stale = match &self.role {
                Role::Leader { term, .. } => t > *term,
                Role::Candidate(e) => t >= e.term,
                Role::PreCandidate(_) => can_lead && t >= self.persistent.promised,
                Role::Follower => false,
            };
            if stale {
                ready.events.push(Event::SteppedDown {
                    term: self.term(),
                    newer: t,
                });
                self.role = Role::Follower;
            }
        }
        // A leader with nothing pending holds a config committed in its term; a peer whose
        // heartbeat shows an older one missed that commit, so it gets it again.
        if let Role::Leader {
            term,
            proposal: None,
        } = self.role
        {
            let p = &self.persistent;
            if (accepted_term, revision) < (p.accepted_term, p.config.revision) {
                let config = p.config.clone();
                Self::reply(ready, from, Message::Commit { term, config });
            }
        }
    }

    fn on_propose(
        &mut self,
        params: &Params,
        from: NodeId,
        term: Term,
        config: SharedConfig,
        ready: &mut Ready,
    ) {
        let p = &self.persistent;
        if p.rejoining {
            ready.events.push(Event::Ignored {
                from,
                kind: MessageKind::Propose,
            });
            return;
        }
        let same_slot = term == p.accepted_term && config.revision == p.config.revision;
        if same_slot && config != p.config {
            ready.events.push(Event::ConflictingConfig {
                from,
                term,
                revision: config.revision,
            });
        } else if same_slot || self.accept(term, &config, ready) {
            self.follow_accepted(params, from, term, ready);
            let accepted = Message::Accepted {
                term,
                revision: config.revision,
                boot: self.persistent.boot,
            };
            Self::reply(ready, from, accepted);
        } else if term < self.persistent.promised {
            self.refuse(from, term, ready);
        } else {
            ready.events.push(Event::Ignored {
                from,
                kind: MessageKind::Propose,
            });
        }
    }

    fn on_commit(
        &mut self,
        params: &Params,
        from: NodeId,
        term: Term,
        config: SharedConfig,
        ready: &mut Ready,
    ) {
        let p = &self.persistent;
        let held = term == p.accepted_term && config == p.config;
        let same_slot = term == p.accepted_term && config.revision == p.config.revision;
        if p.rejoining {
            let readmitted = config.boot_of(params.id) == p.boot;
            if !readmitted && !crate::quorum::newer(term, &config, p.accepted_term, &p.config) {
                ready.events.push(Event::Ignored {
                    from,
                    kind: MessageKind::Commit,
                });
                return;
            }
            // A committed config is a fact; a node that lost its disk may learn it, and
            // takes part again once one of them names its new disk.
            let p = &mut self.persistent;
            p.promised = p.promised.max(term);
            p.accepted_term = term;
            p.config = config.clone();
            if readmitted {
                p.rejoining = false;
                ready.events.push(Event::Rejoined { boot: p.boot });
                // It takes part from now on, behind the orchestrator that readmitted it.
                self.follow_accepted(params, from, term, ready);
            }
            self.report_commit(params, term, from, &config, ready);
            return;
        }
        if held {
            self.report_commit(params, term, from, &config, ready);
        } else if same_slot {
            ready.events.push(Event::ConflictingConfig {
                from,
                term,
                revision: config.revision,
            });
        } else if self.accept(term, &config, ready) {
            self.follow_accepted(params, from, term, ready);
            self.report_commit(params, term, from, &config, ready);
            if !self.active(params) {
                self.step_down(Term::MAX, ready);
            }
        } else {
            ready.events.push(Event::Ignored {
                from,
                kind: MessageKind::Commit,
            });
        }
    }
}
