//! `fenced` nodes on an in-memory network with directed links: the orchestrator pauses,
//! goes deaf, or is deposed mid-rebalance; a link flaps; a node loses its disk. Each test
//! drives the real `Node` and checks what the cluster committed.

use failover_core::{
    AdminCommand, AdminRefusal, Commit, Design, Input, Membership, Message, Node, NodeId, Outgoing,
    Params, Persistent, Ready, Role, Settings,
};
use std::collections::{BTreeSet, VecDeque};

struct Cluster {
    nodes: Vec<Node>,
    inbox: VecDeque<(NodeId, NodeId, Message)>,
    commits: Vec<Commit>,
    /// Directed links that drop what is sent on them.
    cut: BTreeSet<(usize, usize)>,
}

impl Cluster {
    fn new(n: u16, settings: Settings) -> Self {
        let members: Vec<NodeId> = (0..n).map(NodeId).collect();
        let nodes = members
            .iter()
            .map(|id| {
                let params = Params::new(*id, members.iter().copied(), Design::Fenced, 1).unwrap();
                Node::settled(params, settings, NodeId(0))
            })
            .collect();
        Cluster {
            nodes,
            inbox: VecDeque::new(),
            commits: Vec::new(),
            cut: BTreeSet::new(),
        }
    }

    fn three() -> Self {
        Cluster::new(
            3,
            Settings {
                timeout_ticks: 2,
                ..Settings::default()
            },
        )
    }

    fn apply(&mut self, from: usize, ready: Ready) {
        let taken = take(ready);
        for out in taken.messages {
            if !self.cut.contains(&(from, out.to.0 as usize)) {
                self.inbox.push_back((NodeId(from as u16), out.to, out.msg));
            }
        }
        self.commits.extend(taken.commit);
    }

    fn step(&mut self, node: usize, input: Input) {
        let ready = self.nodes[node].step(input).unwrap();
        self.apply(node, ready);
    }

    /// Delivers everything to the `awake` nodes; messages to others wait.
    fn deliver(&mut self, awake: &[usize]) {
        let mut waiting = VecDeque::new();
        while let Some((from, to, msg)) = self.inbox.pop_front() {
            if awake.contains(&(to.0 as usize)) {
                self.step(to.0 as usize, Input::Message { from, msg });
            } else {
                waiting.push_back((from, to, msg));
            }
        }
        self.inbox = waiting;
    }

    /// `node` takes one message; what it answers is returned, not delivered.
    fn receive(&mut self, node: usize, from: u16, msg: Message) -> Taken {
        let input = Input::Message {
            from: NodeId(from),
            msg,
        };
        take(self.nodes[node].step(input).unwrap())
    }

    fn round(&mut self, awake: &[usize]) {
        for n in awake {
            self.step(*n, Input::Tick);
        }
        self.deliver(awake);
    }

    fn leaders(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|n| self.nodes[*n].leader_term().is_some())
            .collect()
    }

    fn admin(&mut self, node: usize, command: AdminCommand) {
        self.step(node, Input::Admin(command));
    }

    fn committed_by(&self, node: usize, since: usize) -> usize {
        self.commits[since..]
            .iter()
            .filter(|c| c.by == NodeId(node as u16) && !c.learned)
            .count()
    }
}

/// A step's output taken apart in the contract's order: the state to persist first.
struct Taken {
    persist: Option<Persistent>,
    messages: Vec<Outgoing>,
    commit: Option<Commit>,
}

fn take(mut ready: Ready) -> Taken {
    let persist = ready.take_persist();
    let messages = ready.messages().expect("the state was taken first");
    Taken {
        persist,
        messages,
        commit: ready.commit,
    }
}

fn failovers_of(commits: &[Commit], node: u16) -> usize {
    commits
        .iter()
        .flat_map(|commit| commit.config.history.iter())
        .filter(|r| r.node == NodeId(node))
        .map(|r| (r.term, r.revision))
        .collect::<BTreeSet<_>>()
        .len()
}

#[test]
fn paused_orchestrator_is_failed_over_once_and_fenced() {
    let mut c = Cluster::three();
    c.round(&[0, 1, 2]);
    assert_eq!(c.nodes[0].leader_term(), Some(1));
    // n0 pauses: n1 and n2 go on.
    for _ in 0..4 {
        c.round(&[1, 2]);
    }
    assert_eq!(c.nodes[1].leader_term(), Some(2), "n1 won term 2");
    assert_eq!(
        failovers_of(&c.commits, 0),
        1,
        "n0 failed over exactly once"
    );
    assert_eq!(
        c.nodes[2].config().membership[&NodeId(0)],
        Membership::FailedOver
    );
    // n0 resumes with its stale memory: it still thinks it leads term 1.
    let before = c.commits.len();
    assert!(matches!(c.nodes[0].role(), Role::Leader { term: 1, .. }));
    for _ in 0..3 {
        c.round(&[0, 1, 2]);
    }
    assert_eq!(
        c.committed_by(0, before),
        0,
        "the fenced orchestrator commits nothing"
    );
    assert_eq!(c.nodes[0].leader_term(), None, "it stepped down");
    assert!(c.nodes[0].term() >= 2, "it learned the newer term");
    assert!(!c.nodes[0].config().is_active(NodeId(0)));
}

#[test]
fn failed_over_node_restarting_with_old_state_learns_it_and_never_leads() {
    let mut c = Cluster::three();
    c.round(&[0, 1, 2]);
    let stale = c.nodes[0].persistent().clone();
    for _ in 0..4 {
        c.round(&[1, 2]);
    }
    assert!(!c.nodes[1].config().is_active(NodeId(0)), "n0 failed over");
    let revision = c.nodes[1].config().revision;
    // n0 restarts from the disk it had before its failover: it thinks it is active, and, as
    // the priority master, would ask for a term if it heard no orchestrator.
    c.inbox.clear();
    c.nodes[0] = Node::restart(c.nodes[0].params().clone(), stale).unwrap();
    let before = c.commits.len();
    for _ in 0..4 {
        c.round(&[0, 1, 2]);
    }
    assert_eq!(
        c.committed_by(0, before),
        0,
        "the failed-over node commits nothing"
    );
    assert_eq!(c.nodes[0].leader_term(), None);
    assert_eq!(c.nodes[0].config().revision, revision, "it caught up");
    assert!(!c.nodes[0].config().is_active(NodeId(0)));
    assert_eq!(
        c.nodes[1].leader_term(),
        Some(2),
        "the orchestrator kept its term"
    );
}

#[test]
fn a_brand_new_cluster_elects_one_orchestrator() {
    let mut c = Cluster::three();
    for node in c.nodes.iter_mut() {
        *node = Node::bootstrap(node.params().clone(), Settings::default());
    }
    for _ in 0..3 {
        c.round(&[0, 1, 2]);
    }
    assert_eq!(c.leaders(), vec![0]);
    assert_eq!(c.nodes[0].leader_term(), Some(1), "one term, no churn");
    assert_eq!(c.nodes[2].config().orchestrator, Some(NodeId(0)));
}

#[test]
fn a_deaf_orchestrator_gives_up_office_and_is_replaced() {
    let settings = Settings {
        timeout_ticks: 2,
        ..Settings::default()
    };
    let mut c = Cluster::new(5, settings);
    let all = [0, 1, 2, 3, 4];
    c.round(&all);
    // n0 can send but no longer receive.
    c.cut.extend((1..5).map(|n| (n, 0)));
    for _ in 0..4 {
        c.round(&all);
    }
    assert_eq!(
        c.nodes[0].leader_term(),
        None,
        "check-quorum: n0 stepped down"
    );
    assert_eq!(c.leaders(), vec![1], "n1 took over");
    assert_eq!(c.nodes[2].config().orchestrator, Some(NodeId(1)));
    assert!(
        c.nodes[1].config().is_active(NodeId(0)),
        "a deaf node is heard: it is not failed over"
    );
    // A node that dies now is failed over by the new orchestrator.
    for _ in 0..4 {
        c.round(&[0, 1, 2, 3]);
    }
    assert_eq!(failovers_of(&c.commits, 4), 1);
}

#[test]
fn a_flapping_link_does_not_move_the_orchestrator() {
    let mut c = Cluster::three();
    c.round(&[0, 1, 2]);
    for _ in 0..5 {
        // n1 misses n0 for a tick, then hears it again: n2 still hears n0.
        c.cut.extend([(0, 1), (1, 0)]);
        c.round(&[0, 1, 2]);
        c.cut.clear();
        c.round(&[0, 1, 2]);
    }
    assert_eq!(c.leaders(), vec![0]);
    assert_eq!(c.nodes[0].leader_term(), Some(1), "no term was ever raised");
    assert_eq!(c.nodes[1].persistent().promised(), 1);
}

#[test]
fn a_rebalance_moves_data_in_committed_steps_and_completes() {
    let mut c = Cluster::three();
    c.admin(0, AdminCommand::StartRebalance { steps: 3 });
    c.deliver(&[0, 1, 2]);
    assert!(c.nodes[2].config().rebalance.is_some());
    for _ in 0..4 {
        c.round(&[0, 1, 2]);
    }
    let config = c.nodes[1].config();
    assert_eq!(config.rebalance, None, "completed");
    assert_eq!(config.map_version, 3, "three committed steps");
    assert_eq!(
        config.quota_epoch, 1,
        "a completed rebalance opens a new quota period"
    );
}

/// The hazard of issue 7, section 1: n0 proposes a rebalance step, n2 accepts it, n0 pauses
/// before reading the acceptance; n1 wins term 2 with n2's vote, builds on the step and
/// fails n0 over; n0 resumes and reads the old acceptance first. It learns that step as
/// committed (true: it was on a majority), but can move no further data: its next step is
/// refused.
#[test]
fn a_deposed_runner_that_commits_late_moves_no_more_data() {
    let settings = Settings {
        timeout_ticks: 2,
        can_abort_rebalance: false,
        ..Settings::default()
    };
    let mut c = Cluster::new(3, settings);
    c.admin(0, AdminCommand::StartRebalance { steps: 5 });
    c.deliver(&[0, 1, 2]);
    // n0's tick proposes step 1; n2 accepts, and its answer waits for n0 (paused).
    c.step(0, Input::Tick);
    c.inbox
        .retain(|(_, to, m)| *to == NodeId(2) && matches!(m, Message::Propose { .. }));
    c.deliver(&[2]);
    let late: Vec<_> = c
        .inbox
        .drain(..)
        .filter(|(_, to, _)| *to == NodeId(0))
        .collect();
    assert!(late
        .iter()
        .any(|(_, _, m)| matches!(m, Message::Accepted { .. })));
    for _ in 0..5 {
        c.round(&[1, 2]);
    }
    assert_eq!(c.leaders(), vec![0, 1], "n0 still believes it leads term 1");
    assert!(
        !c.nodes[1].config().is_active(NodeId(0)),
        "n0 failed over in term 2"
    );
    assert_eq!(
        c.nodes[1].config().rebalance,
        None,
        "its rebalance ended with its office"
    );
    let moved = c.nodes[1].config().map_version;
    assert_eq!(moved, 1, "the step n2 accepted is in term 2's history");
    // n0 resumes and reads the stale acceptance first.
    let before = c.commits.len();
    for (from, to, msg) in late {
        c.inbox.push_front((from, to, msg));
    }
    c.deliver(&[0]);
    assert_eq!(c.committed_by(0, before), 1, "the late commit of step 1");
    for _ in 0..4 {
        c.round(&[0, 1, 2]);
    }
    assert_eq!(c.committed_by(0, before), 1, "and nothing after it");
    assert_eq!(c.nodes[0].leader_term(), None);
    for node in &c.nodes {
        assert_eq!(
            node.config().map_version,
            moved,
            "no data moved by n0 since"
        );
    }
}

#[test]
fn a_node_that_lost_its_disk_votes_only_once_readmitted() {
    let mut c = Cluster::three();
    c.round(&[0, 1, 2]);
    // n2's disk is lost; it comes back blank, on a new disk.
    c.nodes[2] = Node::rejoin(c.nodes[2].params().clone(), Settings::default(), 77);
    let ready = c.receive(2, 1, Message::RequestVote { term: 9 });
    assert!(ready.persist.is_none(), "nothing promised while blank");
    assert!(
        matches!(
            ready.messages.as_slice(),
            [Outgoing {
                msg: Message::Reject { term: 9, .. },
                ..
            }]
        ),
        "no vote while blank, a refusal: {:?}",
        ready.messages
    );
    let config = c.nodes[0].config().clone();
    let ready = c.receive(2, 0, Message::Propose { term: 1, config });
    assert!(ready.messages.is_empty(), "no acceptance while blank");
    for _ in 0..3 {
        c.round(&[0, 1, 2]);
    }
    assert!(!c.nodes[2].persistent().rejoining(), "readmitted");
    assert_eq!(c.nodes[0].config().boot_of(NodeId(2)), 77);
    assert_eq!(c.nodes[2].config(), c.nodes[0].config());
}

#[test]
fn two_configs_for_one_term_and_revision_are_never_mixed() {
    let mut c = Cluster::three();
    let mut same = c.nodes[0].config().to_owned_config();
    same.revision += 1;
    same.settings.max_count = 2;
    let mut other = same.clone();
    other.settings.max_count = 7;
    let ready = c.receive(
        2,
        0,
        Message::Propose {
            term: 1,
            config: same.into(),
        },
    );
    assert_eq!(ready.messages.len(), 1, "accepted");
    let ready = c.receive(
        2,
        0,
        Message::Propose {
            term: 1,
            config: other.into(),
        },
    );
    assert!(
        ready.messages.is_empty(),
        "a different config in the same slot is refused"
    );
    assert_eq!(c.nodes[2].config().settings.max_count, 2);
}

#[test]
fn older_terms_are_refused() {
    let mut c = Cluster::three();
    // n1 hears no orchestrator it would wait for once its hint is gone.
    // A node that just restarted follows nobody yet.
    c.nodes[1] =
        Node::restart(c.nodes[1].params().clone(), c.nodes[1].persistent().clone()).unwrap();
    let ready = c.receive(1, 2, Message::RequestVote { term: 5 });
    assert!(
        ready.persist.is_some(),
        "a vote is persisted before it is sent"
    );
    let ready = c.receive(1, 0, Message::RequestVote { term: 3 });
    assert!(ready.persist.is_none());
    assert_eq!(
        ready.messages[0].msg,
        Message::Reject {
            term: 3,
            promised: 5,
            floor: 0
        }
    );
}

#[test]
fn a_node_that_hears_its_orchestrator_refuses_to_vote() {
    let mut c = Cluster::three();
    let ready = c.receive(1, 2, Message::PreVote { term: 2 });
    assert_eq!(
        ready.messages[0].msg,
        Message::Reject {
            term: 2,
            promised: 1,
            floor: 0
        },
        "no pre-vote while n0 leads"
    );
    let ready = c.receive(1, 2, Message::RequestVote { term: 2 });
    assert_eq!(
        ready.messages[0].msg,
        Message::Reject {
            term: 2,
            promised: 1,
            floor: 0
        }
    );
    assert_eq!(c.nodes[1].persistent().promised(), 1, "nothing promised");
}

#[test]
fn unknown_peers_and_admin_on_followers_are_rejected() {
    let mut c = Cluster::three();
    let before = c.nodes[1].clone();
    let err = c.nodes[1].node_down(NodeId(9)).unwrap_err();
    assert_eq!(err.to_string(), "n9 is not a peer of this node");
    let err = c.nodes[1].admin(AdminCommand::ResetCount).unwrap_err();
    assert_eq!(err, AdminRefusal::NotOrchestrator(Some(NodeId(0))));
    assert!(err.to_string().contains("not the orchestrator"));
    assert_eq!(c.nodes[1], before, "a refused input changes nothing");
}

#[test]
fn two_nodes_down_are_not_failed_over_and_the_orchestrator_says_why() {
    let mut c = Cluster::new(
        5,
        Settings {
            timeout_ticks: 2,
            max_count: 2,
            ..Settings::default()
        },
    );
    c.round(&[0, 1, 2, 3, 4]);
    let before = c.commits.len();
    let mut said = BTreeSet::new();
    for _ in 0..6 {
        let ready = c.nodes[0].tick();
        for event in &ready.events {
            if let failover_core::Event::FailoverBlocked { node, reason } = event {
                assert_eq!(*reason, failover_core::Blocked::OthersDown);
                said.insert(node.0);
            }
        }
        c.apply(0, ready);
        for n in [1, 2] {
            c.step(n, Input::Tick);
        }
        c.deliver(&[0, 1, 2]);
    }
    assert_eq!(c.committed_by(0, before), 0, "nothing failed over");
    assert_eq!(said, BTreeSet::from([3, 4]), "both down nodes named");
}

#[test]
fn a_state_of_other_members_is_not_restarted() {
    let c = Cluster::three();
    let other: Vec<NodeId> = (0..4).map(NodeId).collect();
    let params = Params::new(NodeId(0), other.iter().copied(), Design::Fenced, 1).unwrap();
    let err = Node::restart(params, c.nodes[0].persistent().clone()).unwrap_err();
    assert_eq!(
        err,
        failover_core::RestartError::OtherMembers {
            stored: (0..3).map(NodeId).collect(),
            configured: other,
        }
    );
    assert!(Node::restart(c.nodes[0].params().clone(), c.nodes[0].persistent().clone()).is_ok());
}

#[test]
fn a_vote_cannot_be_taken_out_before_its_promise() {
    let mut c = Cluster::three();
    // A node that just restarted follows nobody yet.
    c.nodes[1] =
        Node::restart(c.nodes[1].params().clone(), c.nodes[1].persistent().clone()).unwrap();
    let input = Input::Message {
        from: NodeId(2),
        msg: Message::RequestVote { term: 5 },
    };
    let mut ready = c.nodes[1].step(input).unwrap();
    assert_eq!(ready.messages(), Err(failover_core::Unpersisted));
    let promise = ready
        .take_persist()
        .expect("a vote is a promise to persist");
    assert_eq!(promise.promised(), 5);
    let messages = ready
        .messages()
        .expect("released once the promise is taken");
    assert!(matches!(messages[0].msg, Message::Vote { term: 5, .. }));
}

#[test]
fn a_node_that_just_accepted_a_new_orchestrator_votes_for_no_other() {
    let settings = Settings {
        timeout_ticks: 5,
        ..Settings::default()
    };
    let mut c = Cluster::new(3, settings);
    // n0 is cut off; n1 and n2 elect n1 in term 2 (too soon to fail n0 over).
    c.cut.extend([(0, 1), (1, 0), (0, 2), (2, 0)]);
    for _ in 0..2 {
        c.round(&[0, 1, 2]);
    }
    assert_eq!(c.leaders(), vec![1]);
    assert!(c.nodes[1].config().is_active(NodeId(0)));
    c.cut.clear();
    // After the heal n0's first heartbeat shows n1 that it missed term 2: n1 sends it
    // the commit, which n0 takes before it has ticked again.
    c.step(0, Input::Tick);
    c.deliver(&[1]);
    c.deliver(&[0]);
    assert_eq!(c.nodes[0].state().followed(), Some((NodeId(1), 2)));
    assert!(
        c.nodes[0].down_ticks(NodeId(1)) >= 1,
        "n0's detector has not seen n1 since the cut"
    );
    for msg in [
        Message::PreVote { term: 3 },
        Message::RequestVote { term: 3 },
    ] {
        let ready = c.receive(0, 2, msg);
        assert_eq!(
            ready.messages[0].msg,
            Message::Reject {
                term: 3,
                promised: 2,
                floor: 0
            },
            "n0 has just accepted n1's commit: it backs no one against n1"
        );
    }
    assert_eq!(c.nodes[0].persistent().promised(), 2);
    // From n0's next tick its detector decides, and it has still heard no heartbeat of n1.
    c.step(0, Input::Tick);
    let ready = c.receive(0, 2, Message::PreVote { term: 3 });
    assert_eq!(
        ready.messages[0].msg,
        Message::PreVoteGranted { term: 3 },
        "the accepted commit counts only until the next tick"
    );
}

#[test]
fn a_pre_candidate_that_accepts_the_orchestrators_proposal_gives_up() {
    let mut c = Cluster::three();
    // n0 does not tick, so n1 and n2 stop hearing it (its proposal below still reaches
    // them; what they send it is dropped), and n1 asks for pre-votes.
    c.cut.extend([(1, 0), (2, 0)]);
    c.step(1, Input::Tick);
    c.step(2, Input::Tick);
    c.deliver(&[1, 2]);
    c.step(1, Input::Tick);
    c.step(2, Input::Tick);
    assert!(matches!(c.nodes[1].role(), Role::PreCandidate(_)));
    // n0 proposes a change of term 1; n1 accepts it before its pre-votes come back.
    c.admin(0, AdminCommand::ResetCount);
    let at = c
        .inbox
        .iter()
        .position(|(from, to, msg)| {
            (*from, *to) == (NodeId(0), NodeId(1)) && matches!(msg, Message::Propose { .. })
        })
        .expect("n0 proposed to n1");
    let (from, _, msg) = c.inbox.remove(at).unwrap();
    c.step(1, Input::Message { from, msg });
    assert_eq!(
        c.nodes[1].role(),
        &Role::Follower,
        "the pre-candidacy ended"
    );
    // n2's pre-vote grant arrives too late to make n1 promise a term above n0's.
    c.deliver(&[0, 1, 2]);
    assert_eq!(c.nodes[1].role(), &Role::Follower);
    assert_eq!(c.nodes[1].persistent().promised(), 1);
}

#[test]
fn an_old_proposal_again_does_not_take_a_vote_back() {
    let mut c = Cluster::three();
    // n1 stops hearing n0, accepts n0's proposal of term 1, then, a tick later, votes for
    // n2 in term 2.
    c.step(1, Input::Tick);
    c.step(1, Input::Tick);
    c.admin(0, AdminCommand::ResetCount);
    let propose = c
        .inbox
        .iter()
        .find(|(from, to, msg)| {
            (*from, *to) == (NodeId(0), NodeId(1)) && matches!(msg, Message::Propose { .. })
        })
        .map(|(_, _, msg)| msg.clone())
        .expect("n0 proposed to n1");
    let accepted = c.receive(1, 0, propose.clone());
    assert!(matches!(
        accepted.messages[0].msg,
        Message::Accepted { term: 1, .. }
    ));
    c.step(1, Input::Tick);
    let vote = c.receive(1, 2, Message::RequestVote { term: 2 });
    assert!(matches!(
        vote.messages[0].msg,
        Message::Vote { term: 2, .. }
    ));
    // The old proposal arrives again (a duplicate): n1 acknowledges it but still follows
    // n2, so n2's request, repeated, gets the same vote back.
    let again = c.receive(1, 0, propose);
    assert!(matches!(
        again.messages[0].msg,
        Message::Accepted { term: 1, .. }
    ));
    assert_eq!(c.nodes[1].state().followed(), Some((NodeId(2), 2)));
    let vote = c.receive(1, 2, Message::RequestVote { term: 2 });
    assert!(
        matches!(vote.messages[0].msg, Message::Vote { term: 2, .. }),
        "the vote given stands: {:?}",
        vote.messages[0].msg
    );
}

/// Three nodes where n0, the orchestrator of term 1, fell silent and n2 granted it a
/// pre-vote for term 3; returns n2's output of that grant.
fn n2_pre_voted_for_n0_in_term_3(c: &mut Cluster) -> Taken {
    c.cut.extend([(0, 1), (0, 2)]);
    for _ in 0..2 {
        c.step(1, Input::Tick);
        c.step(2, Input::Tick);
    }
    c.inbox.clear();
    let ready = c.receive(2, 0, Message::PreVote { term: 3 });
    assert_eq!(ready.messages[0].msg, Message::PreVoteGranted { term: 3 });
    ready
}

/// n2 (promised term 1, floor 3) grants n1's pre-vote for term 2 as one for term 3 and
/// refuses its vote request for term 2, saying the floor.
fn n2_backs_n1_in_no_term_below_3(c: &mut Cluster) {
    let ready = c.receive(2, 1, Message::PreVote { term: 2 });
    assert_eq!(
        ready.messages[0].msg,
        Message::PreVoteGranted { term: 3 },
        "a pre-vote below the one granted is granted at it"
    );
    let ready = c.receive(2, 1, Message::RequestVote { term: 2 });
    assert_eq!(
        ready.messages[0].msg,
        Message::Reject {
            term: 2,
            promised: 1,
            floor: 3
        },
        "no vote below the pre-vote granted, and it says which"
    );
}

#[test]
fn a_node_backs_no_term_below_a_pre_vote_it_granted() {
    let mut c = Cluster::three();
    n2_pre_voted_for_n0_in_term_3(&mut c);
    assert_eq!(c.nodes[2].term(), 3, "its own candidacy would ask above 3");
    // Had n2 backed n1 in term 2 now, n0 could take its pre-votes for term 3 later (after
    // a pause, say), promise term 3, and refuse n1's proposals: the orchestrator n2 helped
    // elect would be deposed while it can lead. n2 grants term 3 instead, and votes for
    // no term below it.
    n2_backs_n1_in_no_term_below_3(&mut c);
    assert_eq!(
        c.nodes[2].persistent().promised(),
        1,
        "refusing promises nothing"
    );
    let ready = c.receive(2, 1, Message::RequestVote { term: 3 });
    assert!(matches!(
        ready.messages[0].msg,
        Message::Vote { term: 3, .. }
    ));
    assert_eq!(c.nodes[2].persistent().promised(), 3);
}

#[test]
fn a_restarted_node_keeps_its_pre_vote_floor() {
    let mut c = Cluster::three();
    let written = n2_pre_voted_for_n0_in_term_3(&mut c)
        .persist
        .expect("the floor is written before the grant leaves");
    assert_eq!(written.pre_voted(), 3);
    // n2 restarts from its disk: n0 may still hold its grant for term 3, so n2 must not
    // back n1 below it now any more than before.
    c.nodes[2] = Node::restart(c.nodes[2].params().clone(), written).unwrap();
    n2_backs_n1_in_no_term_below_3(&mut c);
    // Once promised at or above it, the floor is dropped from the disk.
    let ready = c.receive(2, 1, Message::RequestVote { term: 3 });
    assert!(matches!(
        ready.messages[0].msg,
        Message::Vote { term: 3, .. }
    ));
    assert_eq!(ready.persist.expect("the vote is written").pre_voted(), 0);
}

#[test]
fn a_pre_candidate_granted_a_higher_term_asks_for_it() {
    let mut c = Cluster::three();
    // n0 falls silent, and n1's requests do not reach n2 (n2's heartbeats reach n1).
    c.cut.extend([(0, 1), (0, 2), (1, 2)]);
    for _ in 0..4 {
        c.round(&[1, 2]);
        if matches!(c.nodes[1].role(), Role::PreCandidate(_)) {
            break;
        }
    }
    let Role::PreCandidate(pre) = c.nodes[1].role() else {
        panic!(
            "n1, the master now, asks for pre-votes: {:?}",
            c.nodes[1].role()
        );
    };
    assert_eq!(pre.term, 2);
    let ready = c.receive(1, 2, Message::PreVoteGranted { term: 4 });
    assert!(
        ready
            .messages
            .iter()
            .any(|o| o.msg == Message::RequestVote { term: 4 }),
        "n1 asks for the term n2 backs: {:?}",
        ready.messages
    );
    assert_eq!(ready.persist.expect("the promise is written").promised(), 4);
}

/// Five nodes where n0 has fallen silent: n1, the master now, is a pre-candidate for
/// term 2 whose requests are still on the wire (dropped here), with its own grant alone.
fn five_with_a_lone_pre_candidate() -> Cluster {
    let mut c = Cluster::new(
        5,
        Settings {
            timeout_ticks: 2,
            ..Settings::default()
        },
    );
    c.cut.extend((1..5).map(|to| (0, to)));
    for _ in 0..6 {
        for n in 1..5 {
            c.step(n, Input::Tick);
        }
        if matches!(c.nodes[1].role(), Role::PreCandidate(_)) {
            c.inbox.clear();
            break;
        }
        c.deliver(&[1, 2, 3, 4]);
    }
    let Role::PreCandidate(pre) = c.nodes[1].role() else {
        panic!("n1 asks for pre-votes: {:?}", c.nodes[1].role());
    };
    assert_eq!(pre.term, 2);
    c
}

#[test]
fn grants_of_a_lower_term_do_not_count_for_a_higher_one() {
    let mut c = five_with_a_lone_pre_candidate();
    c.receive(1, 3, Message::PreVoteGranted { term: 2 });
    // n4 backs nothing below 3. n3's grant of 2 says nothing about 3 (n3 may back a term in
    // between), so n1 has two grants of 3, not three, and asks the others again.
    let ready = c.receive(1, 4, Message::PreVoteGranted { term: 3 });
    let Role::PreCandidate(pre) = c.nodes[1].role() else {
        panic!("still a pre-candidate: {:?}", c.nodes[1].role());
    };
    assert_eq!(pre.term, 3);
    assert_eq!(pre.granted, [NodeId(1), NodeId(4)].into());
    let asked: Vec<NodeId> = ready
        .messages
        .iter()
        .filter(|o| o.msg == Message::PreVote { term: 3 })
        .map(|o| o.to)
        .collect();
    assert_eq!(asked, [NodeId(0), NodeId(2), NodeId(3)]);
    assert!(ready.persist.is_none(), "nothing promised yet");
    let ready = c.receive(1, 3, Message::PreVoteGranted { term: 3 });
    assert!(
        ready
            .messages
            .iter()
            .any(|o| o.msg == Message::RequestVote { term: 3 }),
        "three grants of 3: n1 asks for votes"
    );
}

#[test]
fn a_candidate_below_a_voters_floor_gives_up_and_asks_above_it() {
    let mut c = five_with_a_lone_pre_candidate();
    for from in [2, 3] {
        c.receive(1, from, Message::PreVoteGranted { term: 2 });
    }
    assert!(matches!(c.nodes[1].role(), Role::Candidate(_)));
    // A refusal for another reason (the voter hears a live orchestrator) is counted.
    c.receive(
        1,
        2,
        Message::Reject {
            term: 2,
            promised: 1,
            floor: 0,
        },
    );
    assert!(matches!(c.nodes[1].role(), Role::Candidate(_)));
    // A voter that backs nothing below 4: term 2 cannot win there.
    c.receive(
        1,
        3,
        Message::Reject {
            term: 2,
            promised: 1,
            floor: 4,
        },
    );
    assert!(matches!(c.nodes[1].role(), Role::Follower));
    assert_eq!(
        c.nodes[1].term(),
        4,
        "its next pre-vote asks above the floor"
    );
}

#[test]
fn only_a_promise_in_a_refusal_deposes_a_leader() {
    let mut c = Cluster::three();
    assert_eq!(c.leaders(), vec![0]);
    // A late refusal of term 1 from a node that backs nothing below 5: it still accepts
    // term 1's proposals, so the orchestrator keeps its office.
    c.receive(
        0,
        1,
        Message::Reject {
            term: 1,
            promised: 1,
            floor: 5,
        },
    );
    assert_eq!(c.leaders(), vec![0]);
    c.receive(
        0,
        1,
        Message::Reject {
            term: 1,
            promised: 5,
            floor: 0,
        },
    );
    assert!(c.leaders().is_empty(), "a promise of term 5 does depose it");
}
