//! Three `fenced` nodes on an in-memory network: the orchestrator pauses, the next master
//! takes a new term and fails it over, and the old orchestrator, resumed with its stale
//! state, commits nothing and steps down.

use failover_core::{
    Commit, Design, Input, Membership, Message, NodeId, NodeState, Params, Persistent, Ready, Role,
    Settings,
};
use std::collections::VecDeque;

struct Cluster {
    params: Vec<Params>,
    nodes: Vec<NodeState>,
    inbox: VecDeque<(NodeId, NodeId, Message)>,
    commits: Vec<Commit>,
}

impl Cluster {
    fn new() -> Self {
        let members = [NodeId(0), NodeId(1), NodeId(2)];
        let params: Vec<Params> = members
            .iter()
            .map(|id| Params::new(*id, members, Design::Fenced, 1).unwrap())
            .collect();
        let settings = Settings {
            timeout_ticks: 2,
            ..Settings::default()
        };
        let nodes = params
            .iter()
            .map(|p| NodeState::settled(p, settings, NodeId(0)))
            .collect();
        Cluster {
            params,
            nodes,
            inbox: VecDeque::new(),
            commits: Vec::new(),
        }
    }

    fn apply(&mut self, from: usize, ready: Ready) {
        for out in ready.messages {
            self.inbox.push_back((NodeId(from as u16), out.to, out.msg));
        }
        self.commits.extend(ready.commit);
    }

    fn step(&mut self, node: usize, input: Input) {
        let ready = self.nodes[node].step(&self.params[node], input).unwrap();
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
    fn receive(&mut self, node: usize, from: u16, msg: Message) -> Ready {
        let input = Input::Message {
            from: NodeId(from),
            msg,
        };
        self.nodes[node].step(&self.params[node], input).unwrap()
    }

    fn round(&mut self, awake: &[usize]) {
        for n in awake {
            self.step(*n, Input::Tick);
        }
        self.deliver(awake);
    }
}

#[test]
fn paused_orchestrator_is_failed_over_once_and_fenced() {
    let mut c = Cluster::new();
    c.round(&[0, 1, 2]);
    assert_eq!(c.nodes[0].leader_term(), Some(1));
    // n0 pauses: n1 and n2 go on.
    for _ in 0..4 {
        c.round(&[1, 2]);
    }
    assert_eq!(c.nodes[1].leader_term(), Some(2), "n1 won term 2");
    let failovers: Vec<_> = c
        .commits
        .iter()
        .flat_map(|commit| commit.config.history.iter())
        .filter(|r| r.node == NodeId(0))
        .map(|r| (r.node, r.term, r.revision))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(failovers.len(), 1, "n0 failed over exactly once");
    assert_eq!(
        c.nodes[2].config().membership[&NodeId(0)],
        Membership::FailedOver
    );

    // n0 resumes with its stale memory: it still thinks it leads term 1.
    let commits_before = c.commits.len();
    assert!(matches!(c.nodes[0].role, Role::Leader { term: 1, .. }));
    for _ in 0..3 {
        c.round(&[0, 1, 2]);
    }
    let by_n0 = c.commits[commits_before..]
        .iter()
        .filter(|commit| commit.by == NodeId(0))
        .count();
    assert_eq!(by_n0, 0, "the fenced orchestrator commits nothing");
    assert_eq!(c.nodes[0].leader_term(), None, "it stepped down");
    assert!(c.nodes[0].term() >= 2, "it learned the newer term");
    assert!(!c.nodes[0].config().is_active(NodeId(0)));
}

#[test]
fn failed_over_node_restarting_with_old_state_learns_it_and_never_leads() {
    let mut c = Cluster::new();
    c.round(&[0, 1, 2]);
    let stale = c.nodes[0].persistent.clone();
    for _ in 0..4 {
        c.round(&[1, 2]);
    }
    assert!(!c.nodes[1].config().is_active(NodeId(0)), "n0 failed over");
    let revision = c.nodes[1].config().revision;
    // n0 restarts from the disk it had before its failover: it thinks it is active, and, as
    // the priority master that sees no orchestrator of its own, asks for a term.
    c.inbox.clear();
    c.nodes[0] = NodeState::restart(&c.params[0], stale);
    let commits_before = c.commits.len();
    for _ in 0..4 {
        c.round(&[0, 1, 2]);
    }
    assert!(
        c.commits[commits_before..]
            .iter()
            .all(|commit| commit.by != NodeId(0)),
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
fn a_candidate_whose_votes_were_lost_retries_with_a_newer_term() {
    let mut c = Cluster::new();
    for (i, node) in c.nodes.iter_mut().enumerate() {
        let fresh = Persistent::fresh(&c.params[i], Settings::default());
        *node = NodeState::restart(&c.params[i], fresh);
    }
    // n0, the master, asks for term 1; n1 and n2 vote, but the votes are lost.
    c.step(0, Input::Tick);
    c.deliver(&[1, 2]);
    c.inbox.retain(|(_, to, _)| *to != NodeId(0));
    // Its retransmitted requests are refused (the voters promised term 1 already): it gives
    // the term up, and asks for term 2 on a later tick, which it wins.
    for _ in 0..3 {
        c.round(&[0, 1, 2]);
    }
    assert_eq!(c.nodes[0].leader_term(), Some(2));
    assert_eq!(c.nodes[2].config().orchestrator, Some(NodeId(0)));
}

#[test]
fn older_terms_are_refused() {
    let mut c = Cluster::new();
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
            promised: 5
        }
    );
}

#[test]
fn unknown_peers_and_admin_on_followers_are_rejected() {
    let mut c = Cluster::new();
    let before = c.nodes[1].clone();
    let err = c.nodes[1]
        .step(&c.params[1], Input::NodeDown { peer: NodeId(9) })
        .unwrap_err();
    assert_eq!(err.to_string(), "n9 is not a peer of this node");
    let err = c.nodes[1]
        .step(
            &c.params[1],
            Input::Admin(failover_core::AdminCommand::ResetCount),
        )
        .unwrap_err();
    assert!(err.to_string().contains("not the orchestrator"));
    assert_eq!(c.nodes[1], before, "a refused input changes nothing");
}
