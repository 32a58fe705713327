//! [`Cached`]: a part of the model state that is shared between a state and its successors
//! until one of them changes it, and that remembers its own hash.
//!
//! The checker clones a state for every successor and hashes every successor it generates.
//! A step changes one or two nodes and seldom the observer's maps, so sharing the parts a
//! step does not touch makes the clone a few reference counts, and a remembered hash makes
//! fingerprinting them one word each. Equality and the hash stay those of the value: a
//! state's fingerprint still tells apart exactly the states whose parts differ. A value
//! can also remember one fact about itself, learned once per change
//! ([`Cached::holds_once`]).

use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// A shared value with a hash computed on first use after each change.
pub struct Cached<T> {
    value: Arc<Shared<T>>,
    /// The value's hash, or 0 while it is unknown (a hash of 0 is stored as 1).
    hash: AtomicU64,
}

/// The value, and whether the fact of [`Cached::holds_once`] is known to hold of it: kept
/// with the value, so that every state sharing it knows.
struct Shared<T> {
    value: T,
    holds: AtomicBool,
}

/// A copy made for a change has to learn the fact again.
impl<T: Clone> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared {
            value: self.value.clone(),
            holds: AtomicBool::new(false),
        }
    }
}

impl<T: Hash> Cached<T> {
    /// Shares `value`.
    pub fn new(value: T) -> Self {
        Cached {
            value: Arc::new(Shared {
                value,
                holds: AtomicBool::new(false),
            }),
            hash: AtomicU64::new(0),
        }
    }

    /// Whether `fact` holds of the value: asked once per change of the value while it
    /// holds (a value it does not hold of is asked again). One fact per type of value,
    /// always the same one: the answer is shared by every state that shares the value.
    pub fn holds_once(&self, fact: impl FnOnce(&T) -> bool) -> bool {
        if self.value.holds.load(Ordering::Relaxed) {
            return true;
        }
        let holds = fact(&self.value.value);
        if holds {
            self.value.holds.store(true, Ordering::Relaxed);
        }
        holds
    }

    /// The value's hash, computed once per change.
    fn digest(&self) -> u64 {
        let known = self.hash.load(Ordering::Relaxed);
        if known != 0 {
            return known;
        }
        // Fixed seeds: the same build hashes the same state the same way in every run, so
        // state counts are reproducible.
        let digest = ahash::RandomState::with_seeds(1, 2, 3, 4)
            .hash_one(&self.value.value)
            .max(1);
        self.hash.store(digest, Ordering::Relaxed);
        digest
    }
}

impl<T> Deref for Cached<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value.value
    }
}

/// Writing copies the value if another state shares it, and forgets the hash and the fact.
impl<T: Clone> DerefMut for Cached<T> {
    fn deref_mut(&mut self) -> &mut T {
        *self.hash.get_mut() = 0;
        let shared = Arc::make_mut(&mut self.value);
        *shared.holds.get_mut() = false;
        &mut shared.value
    }
}

impl<T> Clone for Cached<T> {
    fn clone(&self) -> Self {
        Cached {
            value: Arc::clone(&self.value),
            hash: AtomicU64::new(self.hash.load(Ordering::Relaxed)),
        }
    }
}

impl<T: Hash> Hash for Cached<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.digest());
    }
}

impl<T: Hash + PartialEq> PartialEq for Cached<T> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.value, &other.value)
            || (self.digest() == other.digest() && self.value.value == other.value.value)
    }
}

impl<T: Hash + Eq> Eq for Cached<T> {}

impl<T: Default + Hash> Default for Cached<T> {
    fn default() -> Self {
        Cached::new(T::default())
    }
}

impl<T: fmt::Debug> fmt::Debug for Cached<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value.value.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::Cached;
    use std::collections::hash_map::DefaultHasher;
    use std::hash::{Hash, Hasher};

    fn hash_of<T: Hash>(value: &T) -> u64 {
        let mut h = DefaultHasher::new();
        value.hash(&mut h);
        h.finish()
    }

    #[test]
    fn a_change_is_seen_by_the_hash_and_not_by_the_sharer() {
        let original = Cached::new(vec![1, 2]);
        let mut changed = original.clone();
        assert_eq!(hash_of(&original), hash_of(&changed));
        changed.push(3);
        assert_eq!(*original, vec![1, 2]);
        assert_ne!(hash_of(&original), hash_of(&changed));
        assert_ne!(original, changed);
        changed.pop();
        assert_eq!(original, changed);
        assert_eq!(hash_of(&original), hash_of(&changed));
    }

    #[test]
    fn a_fact_is_learned_once_per_change_and_shared() {
        let asked = std::cell::Cell::new(0);
        let short = |v: &Vec<u8>| {
            asked.set(asked.get() + 1);
            v.len() < 3
        };
        let original = Cached::new(vec![1, 2]);
        let sharer = original.clone();
        assert!(original.holds_once(short));
        assert!(sharer.holds_once(short));
        assert_eq!(asked.get(), 1, "a sharer knows");
        let mut changed = original.clone();
        changed.push(3);
        assert!(!changed.holds_once(short));
        assert!(!changed.holds_once(short));
        assert_eq!(
            asked.get(),
            3,
            "a changed value is asked again while it fails"
        );
        assert!(original.holds_once(short));
        assert_eq!(asked.get(), 3, "the original still knows");
    }
}
