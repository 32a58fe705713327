//! Partial-order reduction by sleep sets: the search need not take a step that commutes
//! with a sibling step it already took, since the state both lead to is reached the other
//! way round. Sleep sets prune steps, never states: every reachable state is still visited
//! and judged, so the counts of unique states and every verdict are those of the full
//! search (`model/tests/search.rs` compares them). `specs/properties.md` gives the argument.
//!
//! Two steps are independent where this module says so: steps of two different nodes
//! (a tick that heard every peer it could, or the delivery of a link's head) that do not
//! read what the other writes. What each step did is measured where it is taken (its
//! [`Footprint`]), and stays true while it sleeps: the steps taken meanwhile are
//! independent of it, so they changed nothing it reads.

use crate::model::FailoverModel;
use crate::setup::{Heartbeats, NetworkMode, Timing};
use crate::state::{Action, Pending, State, MAX_NODES};
use failover_core::{Revision, Term};

/// What one step did, as far as its independence of other steps goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Footprint {
    /// The step's name across states ([`FailoverModel::step_id`]).
    pub id: u8,
    /// Slot of the node it stepped.
    pub node: u8,
    /// It was a tick.
    pub tick: bool,
    /// Slot of the sender whose message it took off a link (a delivery).
    pub consumed_from: Option<u8>,
    /// Bit `i`: it read the heartbeat of the node in slot `i` (a tick).
    pub reads: u64,
    /// Its node's heartbeat changed.
    pub heartbeat_changed: bool,
    /// Bit `i`: it tried to send to the node in slot `i`.
    pub sent_to: u64,
    /// It wrote its node's disk.
    pub persisted: bool,
    /// The `(term, revision)` its disk write accepted anew.
    pub accepted: Option<(Term, Revision)>,
    /// It proposed or reported a commit.
    pub ordered: bool,
}

impl Footprint {
    /// The bit of this step in a set of step names.
    pub fn bit(&self) -> u64 {
        1 << self.id
    }
}

/// Whether steps `a` and `b`, both enabled at one state, are independent there: taken in
/// either order they lead to the same state, and neither disables the other.
///
/// - Different nodes: a step changes only its own node, the links it takes from and sends
///   on, and the observer.
/// - A tick reads the heartbeats of the peers it hears: not independent of a step that
///   changed one of them.
/// - A delivery takes the head of a link: not independent of a step that sent on that
///   link (a full link drops, and an equal message merges, differently once the head is
///   gone).
/// - The observer: most of what it records commutes (flags that stay set, per-node silence
///   counts, which disks hold a config, the highest term a majority promised). What it
///   records of a proposal or a commit reads other disks and other nodes' silence counts,
///   and two commits in either order are compared with different predecessors, so an
///   ordered step is independent only of steps that neither write a disk, tick nor order.
///   Two disk writes that accept one `(term, revision)` are not independent either.
pub fn independent(a: &Footprint, b: &Footprint) -> bool {
    let bit = |slot: u8| 1u64 << slot;
    a.node != b.node
        && !(a.ordered && (b.ordered || b.persisted || b.tick))
        && !(b.ordered && (a.persisted || a.tick))
        && (a.accepted.is_none() || a.accepted != b.accepted)
        && !(a.reads & bit(b.node) != 0 && b.heartbeat_changed)
        && !(b.reads & bit(a.node) != 0 && a.heartbeat_changed)
        && !(b.consumed_from == Some(a.node) && a.sent_to & bit(b.node) != 0)
        && !(a.consumed_from == Some(b.node) && b.sent_to & bit(a.node) != 0)
}

/// The names of a set of steps.
pub fn bits(steps: &[Footprint]) -> u64 {
    steps.iter().fold(0, |set, f| set | f.bit())
}

impl FailoverModel {
    /// Whether the reduction applies: `async`, heartbeats read at the tick, and links that
    /// deliver their head only (so that a delivery is named by its link).
    pub fn sleep_sets_apply(&self) -> bool {
        self.setup.timing == Timing::Async
            && self.setup.heartbeats == Heartbeats::Read
            && self.setup.network != NetworkMode::Unordered
    }

    /// The name of `action` at `state` if the reduction may put it to sleep: a tick that
    /// hears every peer it can (bit: the node's slot), or the delivery of a link's head
    /// (bit: the link). Every other step (faults, late heartbeats, duplicates, losses,
    /// administrators, writes and sends owed) is independent of nothing.
    pub fn step_id(&self, state: &State, action: &Action) -> Option<u8> {
        let slots = MAX_NODES as u8;
        match action {
            Action::Tick { node, heard } if heard.len() == self.audible(state, *node).len() => {
                Some(self.at(*node) as u8)
            }
            Action::Deliver(e) => Some(slots + self.at(e.src) as u8 * slots + self.at(e.dst) as u8),
            _ => None,
        }
    }

    /// What `action` did from `last` to `next`, if it is a step the reduction names and
    /// it left nothing owed (a node that owes a disk write disables every other step) and
    /// no bound reached (a state at a bound is not expanded).
    pub fn footprint(&self, last: &State, action: &Action, next: &State) -> Option<Footprint> {
        let id = self.step_id(last, action)?;
        let (node, tick, consumed_from, reads) = match action {
            Action::Tick { node, heard } => {
                let reads = heard.iter().fold(0, |set, p| set | 1 << self.at(*p));
                (*node, true, None, reads)
            }
            Action::Deliver(e) => (e.dst, false, Some(self.at(e.src) as u8), 0),
            _ => return None,
        };
        if next.slot(node).pending != Pending::Idle || self.at_bound(next) {
            return None;
        }
        let heartbeat_changed =
            last.slot(node).node.heartbeat() != next.slot(node).node.heartbeat();
        Some(Footprint {
            id,
            node: self.at(node) as u8,
            tick,
            consumed_from,
            reads,
            heartbeat_changed,
            sent_to: next.trail.sent_to,
            persisted: next.trail.persisted,
            accepted: next.trail.accepted,
            ordered: next.trail.ordered,
        })
    }
}
