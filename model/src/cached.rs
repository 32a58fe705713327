//! [`Cached`]: a part of the model state that is shared between a state and its successors
//! until one of them changes it, and that remembers its own hash.
//!
//! The checker clones a state for every successor and hashes every successor it generates.
//! A step changes one or two nodes and seldom the observer's maps, so sharing the parts a
//! step does not touch makes the clone a few reference counts, and a remembered hash makes
//! fingerprinting them one word each. Equality and the hash stay those of the value: a
//! state's fingerprint still tells apart exactly the states whose parts differ.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A shared value with a hash computed on first use after each change.
pub struct Cached<T> {
    value: Arc<T>,
    /// The value's hash, or 0 while it is unknown (a hash of 0 is stored as 1).
    hash: AtomicU64,
}

impl<T: Hash> Cached<T> {
    /// Shares `value`.
    pub fn new(value: T) -> Self {
        Cached {
            value: Arc::new(value),
            hash: AtomicU64::new(0),
        }
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
            .hash_one(&*self.value)
            .max(1);
        self.hash.store(digest, Ordering::Relaxed);
        digest
    }
}

impl<T> Deref for Cached<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

/// Writing copies the value if another state shares it, and forgets the hash.
impl<T: Clone> DerefMut for Cached<T> {
    fn deref_mut(&mut self) -> &mut T {
        *self.hash.get_mut() = 0;
        Arc::make_mut(&mut self.value)
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
            || (self.digest() == other.digest() && *self.value == *other.value)
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
        self.value.fmt(f)
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
}
