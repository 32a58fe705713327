//! The model's state: every node as `failover-core` holds it plus what only the world knows
//! (disks, the network, pending `nodedown`s, cut links, fault budgets spent) and the
//! observer's ghost facts that the properties read ([`crate::observe`]).

use crate::cached::Cached;
use crate::observe::Ghost;
use failover_core::{Message, Node, NodeId, Outgoing, Persistent};
use smallvec::SmallVec;
use std::collections::BTreeSet;
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
    pub node: Node,
    /// What is on its disk.
    pub disk: Persistent,
    /// Output not yet carried out.
    pub pending: Pending,
    /// With heartbeats as messages: the peers (bits by slot) whose heartbeat arrived since
    /// the node's last tick. Always empty otherwise.
    pub heard: u64,
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

/// Messages in flight: one queue per directed link holding at most the link's capacity
/// (a message sent on a full link is dropped, as a full outbox drops it). In FIFO modes
/// only a queue's head can arrive; in unordered mode any message can.
///
/// The queues are kept as one list ordered by link, each link's messages in the order
/// sent, and shared with the states that did not change it (most steps send nothing): a
/// change copies one short list instead of a map of queues.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Network {
    queued: Cached<Vec<Envelope>>,
}

impl Network {
    /// The messages queued on the link from `src` to `dst`, oldest first, and where they
    /// start in the list.
    fn link(&self, src: NodeId, dst: NodeId) -> (usize, &[Envelope]) {
        let start = self.queued.partition_point(|e| (e.src, e.dst) < (src, dst));
        let len = self.queued[start..]
            .iter()
            .take_while(|e| (e.src, e.dst) == (src, dst))
            .count();
        (start, &self.queued[start..start + len])
    }

    /// Queues `msg` from `src` to `dst` unless the link already holds `capacity` messages
    /// or (with `merge`) an equal message.
    pub fn send(&mut self, src: NodeId, dst: NodeId, msg: Message, capacity: u8, merge: bool) {
        let (start, queue) = self.link(src, dst);
        if queue.len() < usize::from(capacity) && !(merge && queue.iter().any(|e| e.msg == msg)) {
            let end = start + queue.len();
            self.queued.insert(end, Envelope { src, dst, msg });
        }
    }

    /// The messages that can arrive next: each queue's head, or (unordered) every
    /// message once per distinct value.
    pub fn deliverable(&self, unordered: bool) -> Vec<Envelope> {
        let mut out = Vec::new();
        for (i, e) in self.queued.iter().enumerate() {
            let head = i == 0 || {
                let before = &self.queued[i - 1];
                (before.src, before.dst) != (e.src, e.dst)
            };
            if head || (unordered && !self.queued[..i].contains(e)) {
                out.push(e.clone());
            }
        }
        out
    }

    /// Every distinct message in flight.
    pub fn all(&self) -> Vec<Envelope> {
        self.deliverable(true)
    }

    /// Takes the first copy of `envelope` off its link. Returns whether it was there.
    pub fn remove(&mut self, envelope: &Envelope) -> bool {
        // Looked up before writing, so that a miss does not copy the shared list.
        let Some(at) = self.queued.iter().position(|e| e == envelope) else {
            return false;
        };
        self.queued.remove(at);
        true
    }

    /// Drops every message on the link from `src` to `dst`.
    pub fn drop_link(&mut self, src: NodeId, dst: NodeId) {
        self.retain_links(|a, b| (a, b) != (src, dst));
    }

    /// The links that hold messages.
    pub fn busy_links(&self) -> impl Iterator<Item = (NodeId, NodeId)> + '_ {
        let mut last = None;
        self.queued.iter().filter_map(move |e| {
            let link = (e.src, e.dst);
            (last.replace(link) != Some(link)).then_some(link)
        })
    }

    /// Drops every link for which `keep(src, dst)` is false.
    pub fn retain_links(&mut self, keep: impl Fn(NodeId, NodeId) -> bool) {
        if !self.queued.iter().all(|e| keep(e.src, e.dst)) {
            self.queued.retain(|e| keep(e.src, e.dst));
        }
    }

    /// Number of messages in flight.
    pub fn len(&self) -> usize {
        self.queued.len()
    }

    /// Whether nothing is in flight.
    pub fn is_empty(&self) -> bool {
        self.queued.is_empty()
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

/// Links cut by a fault; at most one cut is in force at a time.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Cut {
    /// These nodes and the rest cannot talk (both directions).
    Isolate(BTreeSet<NodeId>),
    /// Nothing reaches this node; it still sends (the deaf node).
    Deafen(NodeId),
    /// Nothing goes from `from` to `to`; the other direction works.
    OneWay {
        /// The sender whose messages are lost.
        from: NodeId,
        /// The receiver that no longer hears it.
        to: NodeId,
    },
}

impl Cut {
    /// Whether this cut stops messages from `src` to `dst`.
    pub fn blocks(&self, src: NodeId, dst: NodeId) -> bool {
        match self {
            Cut::Isolate(side) => side.contains(&src) != side.contains(&dst),
            Cut::Deafen(node) => dst == *node && src != *node,
            Cut::OneWay { from, to } => src == *from && dst == *to,
        }
    }
}

/// What the step that made a state did, beyond what comparing it with its predecessor
/// shows: the search's partial-order reduction reads it ([`crate::reduction`]). It is not
/// part of the state's identity: every trail is equal to every other and hashes to
/// nothing, so two states that differ only in how they were reached are one state.
#[derive(Clone, Copy, Debug, Default)]
pub struct Trail {
    /// Bit `i`: the step tried to put a message on a link to the node in slot `i` (queued,
    /// merged into an equal one, or dropped on a full link).
    pub sent_to: u64,
    /// The step wrote a disk.
    pub persisted: bool,
    /// The `(term, revision)` of the config a disk write accepted anew.
    pub accepted: Option<(failover_core::Term, failover_core::Revision)>,
    /// The step proposed a config or reported a commit: what the observer records of
    /// such steps depends on their order and on the disk writes before them.
    pub ordered: bool,
}

impl PartialEq for Trail {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Trail {}

impl std::hash::Hash for Trail {
    fn hash<H: std::hash::Hasher>(&self, _: &mut H) {}
}

/// The largest cluster the checker explores ([`crate::setup::Setup::validate`]); a
/// recorded run of more nodes still replays, with its slots on the heap.
pub const MAX_NODES: usize = 6;

/// Some peers of a node, in id order (held inline, as [`State::nodes`]).
pub type Peers = SmallVec<[NodeId; MAX_NODES]>;

/// Faults and events spent so far, counted like the bounds they are spent against.
pub type Spent = crate::setup::Bounds;

/// The whole model state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct State {
    /// The global clock (`timed`); stays 0 in `async`.
    pub now: u8,
    /// Nodes by id, each shared with the states that did not change it (held inline:
    /// the checker clones a state for every successor).
    pub nodes: SmallVec<[Cached<Slot>; MAX_NODES]>,
    /// Messages in flight.
    pub network: Network,
    /// `nodedown`s on their way.
    pub notices: Cached<BTreeSet<Notice>>,
    /// The links cut now, if any.
    pub cut: Option<Cut>,
    /// Budgets spent.
    pub spent: Spent,
    /// Observer's facts, shared with the states that did not change them (most steps).
    pub ghost: Cached<Ghost>,
    /// What the step that made this state did (not part of its identity).
    pub trail: Trail,
}

impl State {
    /// The slot of `node`.
    pub fn slot(&self, node: NodeId) -> &Slot {
        // Slots hold nodes of consecutive ids, in order (from 0, or from the first id of a
        // recorded run).
        let first = self.nodes[0].node.id().0;
        &self.nodes[usize::from(node.0 - first)]
    }

    /// Whether messages from `src` reach `dst`.
    pub fn link_up(&self, src: NodeId, dst: NodeId) -> bool {
        !self.cut.as_ref().is_some_and(|c| c.blocks(src, dst))
    }

    /// Whether `node` runs.
    pub fn running(&self, node: NodeId) -> bool {
        self.slot(node).status == Status::Running
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
    /// Switch auto-failover off, or on again.
    ToggleEnabled,
    /// Switch `canAbortRebalance`.
    ToggleAbort,
}

/// One step of the world.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// A node's detection interval fires (`async`), after it heard the heartbeats of
    /// `heard` since its last tick.
    Tick {
        /// The node.
        node: NodeId,
        /// The live, reachable peers it heard from, in id order.
        heard: Peers,
    },
    /// The global clock moves on and every running node ticks (`timed`); with `late`
    /// `(node, peer)`, `node` misses `peer`'s heartbeat at this tick (a false suspicion).
    Advance {
        /// The one heartbeat that arrives late, if any.
        late: Option<(NodeId, NodeId)>,
        /// Whether everything the ticks set off is carried out in the same step (otherwise
        /// [`Action::Settle`] does it one step at a time).
        settles: bool,
    },
    /// `timed`, faults in flight: the next owed disk write, send, due `nodedown` or message
    /// of the tick is carried out, in the fixed order of bounded delivery.
    Settle,
    /// A message arrives.
    Deliver(Envelope),
    /// A message arrives and a copy stays in flight.
    Duplicate(Envelope),
    /// A message is lost.
    Lose(Envelope),
    /// A reconnect drops everything queued on a link.
    DropLink(NodeId, NodeId),
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
    /// A stopped node's disk is lost: it will restart blank and rejoin.
    LoseDisk(NodeId),
    /// A stopped node restarts from its disk.
    Restart(NodeId),
    /// A node pauses.
    Pause(NodeId),
    /// A paused node resumes with its stale memory.
    Resume(NodeId),
    /// Links are cut.
    Cut(Cut),
    /// The cut heals.
    Heal,
    /// An administrator's command to a node.
    Admin(NodeId, AdminKind),
}

fn set<'a>(nodes: impl IntoIterator<Item = &'a NodeId>) -> String {
    let names: Vec<String> = nodes.into_iter().map(|n| n.to_string()).collect();
    format!("{{{}}}", names.join(","))
}

/// A message in a few words.
pub fn describe_message(msg: &Message) -> String {
    match msg {
        Message::Heartbeat {
            orchestrator: true, ..
        } => "heartbeat (holds singletons)".into(),
        Message::Heartbeat { .. } => "heartbeat".into(),
        Message::PreVote { term } => format!("pre-vote t{term}"),
        Message::PreVoteGranted { term } => format!("pre-vote granted t{term}"),
        Message::RequestVote { term } => format!("request-vote t{term}"),
        Message::Vote {
            term,
            accepted_term,
            config,
            ..
        } => format!(
            "vote t{term} (has r{} from t{accepted_term})",
            config.revision
        ),
        Message::Propose { term, config } => format!("propose t{term} r{}", config.revision),
        Message::Accepted { term, revision, .. } => format!("accepted t{term} r{revision}"),
        Message::Reject {
            term,
            promised,
            floor: 0,
        } => format!("reject t{term} (promised t{promised})"),
        Message::Reject {
            term,
            promised,
            floor,
        } => format!("reject t{term} (promised t{promised}, pre-voted t{floor})"),
        Message::Commit { term, config } => format!("commit t{term} r{}", config.revision),
        Message::Rejoin { boot } => format!("rejoin on disk {boot}"),
        other => other.kind().to_string(),
    }
}

impl fmt::Display for Cut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cut::Isolate(side) => write!(f, "partition cuts off {}", set(side)),
            Cut::Deafen(n) => write!(f, "{n} goes deaf (it sends, but hears nothing)"),
            Cut::OneWay { from, to } => write!(f, "one-way cut: {to} no longer hears {from}"),
        }
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
            Action::Advance { late, settles } => {
                write!(f, "clock advances; every running node ticks")?;
                if let Some((node, peer)) = late {
                    write!(f, ", {node} missing {peer}'s heartbeat")?;
                }
                if *settles {
                    write!(f, "; messages delivered until quiet")?;
                }
                Ok(())
            }
            Action::Settle => write!(f, "the next owed step of the tick is carried out"),
            Action::Deliver(e) => write!(
                f,
                "{} receives {} from {}",
                e.dst,
                describe_message(&e.msg),
                e.src
            ),
            Action::Duplicate(e) => write!(
                f,
                "{} receives {} from {} (a copy stays in flight)",
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
            Action::DropLink(src, dst) => {
                write!(f, "reconnect drops everything queued from {src} to {dst}")
            }
            Action::Persist(n) => write!(f, "{n} writes its state to disk"),
            Action::Send(n) => write!(f, "{n} sends what waited for the disk"),
            Action::NodeDown(n) => write!(f, "{} gets nodedown for {}", n.to, n.about),
            Action::Shutdown { node, clean: true } => write!(f, "{node} shuts down cleanly"),
            Action::Shutdown { node, clean: false } => {
                write!(f, "{node} dies uncleanly (no nodedown until net-tick)")
            }
            Action::LoseDisk(n) => write!(f, "{n} loses its disk"),
            Action::Restart(n) => write!(f, "{n} restarts from disk"),
            Action::Pause(n) => write!(f, "{n} pauses"),
            Action::Resume(n) => write!(f, "{n} resumes with stale state"),
            Action::Cut(cut) => write!(f, "{cut}"),
            Action::Heal => write!(f, "the cut heals"),
            Action::Admin(n, kind) => match kind {
                AdminKind::StartRebalance => write!(f, "admin starts a rebalance on {n}"),
                AdminKind::StopRebalance => write!(f, "admin stops the rebalance on {n}"),
                AdminKind::ResetCount => write!(f, "admin resets the failover count on {n}"),
                AdminKind::ToggleEnabled => write!(f, "admin switches auto-failover on {n}"),
                AdminKind::ToggleAbort => write!(f, "admin switches canAbortRebalance on {n}"),
            },
        }
    }
}
