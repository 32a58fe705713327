//! The model's state: every node as `failover-core` holds it plus what only the world knows
//! (disks, the network, pending `nodedown`s, the partition, fault budgets spent) and the
//! ghost facts that the properties read.

use failover_core::{FailoverRecord, Message, NodeId, NodeState, Outgoing, Persistent, Term};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Whether a node runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// Running.
    Running,
    /// Stopped by SIGSTOP or a long pause: keeps its memory, takes no step.
    Paused,
    /// Shut down; `clean` says whether peers were told at once.
    Down {
        /// Whether the shutdown was clean.
        clean: bool,
    },
}

/// The output of a step that the driver has not carried out yet. Persistence is a step of
/// its own so that a crash can fall between writing the state and sending what depends
/// on it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Pending {
    /// Nothing owed.
    Idle,
    /// The state must be written, then these messages sent.
    Persist(Vec<Outgoing>),
    /// The state is written; these messages are still to be sent.
    Send(Vec<Outgoing>),
}

/// One node as the world sees it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Slot {
    /// Running, paused or down.
    pub status: Status,
    /// Memory of the node (stale while paused, meaningless while down).
    pub node: NodeState,
    /// What is on its disk.
    pub disk: Persistent,
    /// Output not yet carried out.
    pub pending: Pending,
}

/// A message in flight.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Envelope {
    /// Sender.
    pub src: NodeId,
    /// Destination.
    pub dst: NodeId,
    /// The message.
    pub msg: Message,
}

/// Messages in flight: one FIFO queue per directed link, as TCP gives; links interleave
/// freely and any message may be lost (within the budget). A message equal to one already
/// queued on the same link is not queued twice (a retransmission of a message not yet
/// delivered adds nothing).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Network {
    links: BTreeMap<(NodeId, NodeId), Vec<Message>>,
}

impl Network {
    /// Queues `msg` from `src` to `dst`.
    pub fn send(&mut self, src: NodeId, dst: NodeId, msg: Message) {
        let queue = self.links.entry((src, dst)).or_default();
        if !queue.contains(&msg) {
            queue.push(msg);
        }
    }

    /// The message at the head of each link: the ones that can arrive next.
    pub fn heads(&self) -> impl Iterator<Item = Envelope> + '_ {
        self.links.iter().filter_map(|((src, dst), q)| {
            q.first().map(|msg| Envelope {
                src: *src,
                dst: *dst,
                msg: msg.clone(),
            })
        })
    }

    /// Every message in flight.
    pub fn all(&self) -> impl Iterator<Item = Envelope> + '_ {
        self.links.iter().flat_map(|((src, dst), q)| {
            q.iter().map(|msg| Envelope {
                src: *src,
                dst: *dst,
                msg: msg.clone(),
            })
        })
    }

    /// Takes `envelope` off its link. Returns whether it was there.
    pub fn remove(&mut self, envelope: &Envelope) -> bool {
        let key = (envelope.src, envelope.dst);
        let Some(queue) = self.links.get_mut(&key) else {
            return false;
        };
        let Some(at) = queue.iter().position(|m| *m == envelope.msg) else {
            return false;
        };
        queue.remove(at);
        if queue.is_empty() {
            self.links.remove(&key);
        }
        true
    }

    /// Drops every link for which `keep(src, dst)` is false.
    pub fn retain_links(&mut self, keep: impl Fn(NodeId, NodeId) -> bool) {
        self.links.retain(|(src, dst), _| keep(*src, *dst));
    }

    /// Whether any message is on its way to a node for which `to` holds.
    pub fn any_to(&self, to: impl Fn(NodeId) -> bool) -> bool {
        self.links.keys().any(|(_, dst)| to(*dst))
    }

    /// Number of messages in flight.
    pub fn len(&self) -> usize {
        self.links.values().map(Vec::len).sum()
    }

    /// Whether nothing is in flight.
    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
    }
}

/// A `nodedown` on its way: `to` will hear that `about` is gone, at `due` in `timed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Notice {
    /// When it is due (`timed`).
    pub due: u8,
    /// Who gets it.
    pub to: NodeId,
    /// Who it is about.
    pub about: NodeId,
}

/// Faults and events spent so far, counted like the bounds they are spent against.
pub type Spent = crate::setup::Bounds;

/// A lost node whose failover the `timed` properties wait for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Watch {
    /// The lost node.
    pub node: NodeId,
    /// When it was lost.
    pub since: u8,
    /// Whether it was the orchestrator when lost.
    pub orchestrator: bool,
}

/// Facts only an observer of the whole run knows; the properties read them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Ghost {
    /// Every committed failover (the union of the histories of committed configs).
    pub records: BTreeSet<FailoverRecord>,
    /// `(term, revision)` of the newest commit seen.
    pub newest_commit: (Term, u32),
    /// The node whose committed rebalance really runs (see `observe_rebalance`).
    pub rebalance: Option<NodeId>,
    /// The newest commit has no failover left in its quota.
    pub quota_spent: bool,
    /// Every `(term, node)` that committed something.
    pub acted: BTreeSet<(Term, NodeId)>,
    /// A failover was committed while fewer than a majority had persisted it.
    pub without_majority: bool,
    /// A failover was committed while another node's rebalance was committed as running.
    pub during_rebalance: bool,
    /// A failover was refused because a rebalance ran.
    pub blocked_by_rebalance: bool,
    /// A failover was refused because the quota was spent.
    pub blocked_by_quota: bool,
    /// A paused orchestrator resumed after it had been failed over.
    pub fenced_resumed: bool,
    /// A node committed after its own failover had been committed.
    pub failed_over_acted: bool,
    /// Nodes that were orchestrator (by their own view) when a fault hit them.
    pub lost_orchestrators: BTreeSet<NodeId>,
    /// Nodes touched by any fault (`timed`).
    pub disturbed: BTreeSet<NodeId>,
    /// The lost node being timed (`timed`).
    pub watch: Option<Watch>,
}

/// The whole model state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct State {
    /// The global clock (`timed`); stays 0 in `async`.
    pub now: u8,
    /// Nodes by id.
    pub nodes: Vec<Slot>,
    /// Messages in flight.
    pub network: Network,
    /// `nodedown`s on their way.
    pub notices: BTreeSet<Notice>,
    /// The nodes cut off from the rest, if a partition is in place.
    pub partition: Option<BTreeSet<NodeId>>,
    /// Budgets spent.
    pub spent: Spent,
    /// Observer's facts.
    pub ghost: Ghost,
}

impl State {
    /// The slot of `node`.
    pub fn slot(&self, node: NodeId) -> &Slot {
        &self.nodes[node.0 as usize]
    }

    /// Whether `a` and `b` can talk.
    pub fn connected(&self, a: NodeId, b: NodeId) -> bool {
        match &self.partition {
            Some(side) => side.contains(&a) == side.contains(&b),
            None => true,
        }
    }
}

/// An admin command the model may issue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AdminKind {
    /// Start a rebalance.
    StartRebalance,
    /// Stop it.
    StopRebalance,
    /// Reset the failover count.
    ResetCount,
}

/// One step of the world.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// A node's detection interval fires (`async`), after it heard the heartbeats of
    /// `heard` since its last tick.
    Tick {
        /// The node.
        node: NodeId,
        /// The live, reachable peers it heard from.
        heard: BTreeSet<NodeId>,
    },
    /// The global clock moves on and every running node ticks (`timed`).
    Advance,
    /// A message arrives.
    Deliver(Envelope),
    /// A message is lost.
    Lose(Envelope),
    /// A node writes its pending state.
    Persist(NodeId),
    /// A node sends the messages that waited for its state to be written.
    Send(NodeId),
    /// A `nodedown` arrives.
    NodeDown(Notice),
    /// A node shuts down.
    Shutdown {
        /// The node.
        node: NodeId,
        /// Whether peers are told at once.
        clean: bool,
    },
    /// A stopped node restarts from its disk.
    Restart(NodeId),
    /// A node pauses.
    Pause(NodeId),
    /// A paused node resumes with its stale memory.
    Resume(NodeId),
    /// These nodes are cut off from the rest.
    Partition(BTreeSet<NodeId>),
    /// The partition heals.
    Heal,
    /// An administrator's command to a node.
    Admin(NodeId, AdminKind),
}

fn set(nodes: &BTreeSet<NodeId>) -> String {
    let names: Vec<String> = nodes.iter().map(|n| n.to_string()).collect();
    format!("{{{}}}", names.join(","))
}

/// A message in a few words.
pub fn describe_message(msg: &Message) -> String {
    match msg {
        Message::Heartbeat {
            orchestrator: true, ..
        } => "heartbeat (holds singletons)".into(),
        Message::Heartbeat { .. } => "heartbeat".into(),
        Message::RequestVote { term } => format!("request-vote t{term}"),
        Message::Vote {
            term,
            accepted_term,
            config,
        } => format!(
            "vote t{term} (has r{} from t{accepted_term})",
            config.revision
        ),
        Message::Propose { term, config } => format!("propose t{term} r{}", config.revision),
        Message::Accepted { term, revision } => format!("accepted t{term} r{revision}"),
        Message::Reject { term, promised } => format!("reject t{term} (promised t{promised})"),
        Message::Commit { term, config } => format!("commit t{term} r{}", config.revision),
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Tick { node, heard } if heard.is_empty() => {
                write!(f, "{node} ticks, having heard no heartbeat")
            }
            Action::Tick { node, heard } => {
                write!(
                    f,
                    "{node} ticks, having heard heartbeats from {}",
                    set(heard)
                )
            }
            Action::Advance => write!(
                f,
                "clock advances; every running node ticks; messages delivered until quiet"
            ),
            Action::Deliver(e) => write!(
                f,
                "{} receives {} from {}",
                e.dst,
                describe_message(&e.msg),
                e.src
            ),
            Action::Lose(e) => write!(
                f,
                "LOST: {} from {} to {}",
                describe_message(&e.msg),
                e.src,
                e.dst
            ),
            Action::Persist(n) => write!(f, "{n} writes its state to disk"),
            Action::Send(n) => write!(f, "{n} sends what waited for the disk"),
            Action::NodeDown(n) => write!(f, "{} gets nodedown for {}", n.to, n.about),
            Action::Shutdown { node, clean: true } => write!(f, "{node} shuts down cleanly"),
            Action::Shutdown { node, clean: false } => {
                write!(f, "{node} dies uncleanly (no nodedown until net-tick)")
            }
            Action::Restart(n) => write!(f, "{n} restarts from disk"),
            Action::Pause(n) => write!(f, "{n} pauses"),
            Action::Resume(n) => write!(f, "{n} resumes with stale state"),
            Action::Partition(side) => write!(f, "partition cuts off {}", set(side)),
            Action::Heal => write!(f, "partition heals"),
            Action::Admin(n, AdminKind::StartRebalance) => {
                write!(f, "admin starts a rebalance on {n}")
            }
            Action::Admin(n, AdminKind::StopRebalance) => {
                write!(f, "admin stops the rebalance on {n}")
            }
            Action::Admin(n, AdminKind::ResetCount) => {
                write!(f, "admin resets the failover count on {n}")
            }
        }
    }
}
