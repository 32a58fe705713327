//! A fixed number of slots for connections that have not earned a place of their own
//! (unauthenticated peers, admin clients): a new connection always gets one, and when all
//! are taken the oldest is evicted. A flood then only churns the slots; it cannot hold
//! them against a newcomer.

use std::collections::VecDeque;
use std::sync::Mutex;
use tokio::sync::oneshot;

/// The slots.
#[derive(Debug)]
pub struct Slots {
    capacity: usize,
    state: Mutex<Taken>,
}

#[derive(Debug, Default)]
struct Taken {
    next_id: u64,
    /// Holders, oldest first, with how to evict each.
    holders: VecDeque<(u64, oneshot::Sender<()>)>,
}

/// A connection's slot: its id, and a receiver that fires if it is evicted.
#[derive(Debug)]
pub struct Slot {
    /// Gives the slot back with [`Slots::release`].
    pub id: u64,
    /// Fires when a newer connection evicts this one.
    pub evicted: oneshot::Receiver<()>,
}

impl Slots {
    /// `capacity` slots (at least one).
    pub fn new(capacity: usize) -> Self {
        Slots {
            capacity: capacity.max(1),
            state: Mutex::new(Taken::default()),
        }
    }

    /// A slot for a new connection, and whether the oldest holder was evicted for it.
    pub fn admit(&self) -> (Slot, bool) {
        let (evict, evicted) = oneshot::channel();
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.next_id += 1;
        let id = state.next_id;
        let mut evicted_oldest = false;
        if state.holders.len() >= self.capacity {
            if let Some((_, oldest)) = state.holders.pop_front() {
                let _ = oldest.send(());
                evicted_oldest = true;
            }
        }
        state.holders.push_back((id, evict));
        (Slot { id, evicted }, evicted_oldest)
    }

    /// Gives slot `id` back (the connection ended, moved on, or was evicted).
    pub fn release(&self, id: u64) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.holders.retain(|(holder, _)| *holder != id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_newcomer_evicts_the_oldest_holder() {
        let slots = Slots::new(2);
        let (mut first, e1) = slots.admit();
        let (mut second, e2) = slots.admit();
        assert!(!e1 && !e2);
        let (_third, e3) = slots.admit();
        assert!(e3, "full: the oldest goes");
        assert!(first.evicted.try_recv().is_ok(), "the first was told");
        assert!(second.evicted.try_recv().is_err(), "the second stays");
        slots.release(second.id);
        let (_fourth, e4) = slots.admit();
        assert!(!e4, "a released slot is free again");
    }
}
