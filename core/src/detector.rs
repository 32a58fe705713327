//! Down detection, after the auto-failover logic of the system this project comes from.
//!
//! A tick is one heartbeat period. Every tick, a peer that sent nothing since the last tick
//! has its down counter raised; any heartbeat from it resets the counter ("up"). A detector
//! *tolerates* `k` missed ticks in a row: a heartbeat that arrives just after a tick
//! instead of just before it (the two nodes' periods drift, the scheduler runs late) leaves
//! one period empty and the next with two, and that is no sign of trouble. With threshold
//! `T` (the timeout in ticks) a peer is `HalfDown` once the counter passes `k`,
//! `NearlyDown` once it reaches `T - 2`, and `Failover` once it reaches `T` (a two-tick
//! grace); the tolerated ticks count towards `T`, so tolerance never delays a failover.
//! Only a *single* down node may be failed over, and a change in the set of down nodes
//! restarts every counter.

use crate::ids::{NodeId, Ticks};
#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// How a peer looks to the detector.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[non_exhaustive]
pub enum Health {
    /// Heard from in the last tick.
    Up,
    /// Silent for fewer than `T - 2` ticks.
    HalfDown,
    /// Silent for at least `T - 2` ticks: in the grace period.
    NearlyDown,
    /// Silent for at least `T` ticks: may be failed over.
    Failover,
}

/// The missed ticks in a row that still count as up, under a threshold of `threshold`
/// ticks: `tolerance`, but always fewer than the threshold.
pub fn tolerated(tolerance: Ticks, threshold: Ticks) -> Ticks {
    tolerance.min(threshold.saturating_sub(1))
}

/// Health of `ticks` missed ticks in a row under a threshold of `threshold` ticks, when
/// `tolerance` missed ticks still count as up.
pub fn health(ticks: Ticks, threshold: Ticks, tolerance: Ticks) -> Health {
    if ticks <= tolerated(tolerance, threshold) {
        Health::Up
    } else if ticks >= threshold {
        Health::Failover
    } else if ticks >= threshold.saturating_sub(2).max(1) {
        Health::NearlyDown
    } else {
        Health::HalfDown
    }
}

/// Per-peer down counters of one node.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Detector {
    /// Missed ticks in a row per watched peer; peers at 0 are absent, so that the state
    /// stays small.
    down: BTreeMap<NodeId, Ticks>,
    /// Peers heard from since the last tick.
    heard: BTreeSet<NodeId>,
    /// Missed ticks in a row that still count as up.
    #[cfg_attr(feature = "serde", serde(default))]
    tolerance: Ticks,
}

impl Detector {
    /// A detector that counts every peer as just heard from and tolerates `tolerance`
    /// missed ticks in a row.
    pub fn new(peers: impl IntoIterator<Item = NodeId>, tolerance: Ticks) -> Self {
        Detector {
            down: BTreeMap::new(),
            heard: peers.into_iter().collect(),
            tolerance,
        }
    }

    /// Missed ticks in a row that still count as up.
    pub fn tolerance(&self) -> Ticks {
        self.tolerance
    }

    /// Records a frame from `peer`.
    pub fn heard(&mut self, peer: NodeId) {
        self.heard.insert(peer);
    }

    /// Missed ticks of `peer`.
    pub fn down_ticks(&self, peer: NodeId) -> Ticks {
        self.down.get(&peer).copied().unwrap_or(0)
    }

    /// Health of `peer` under `threshold`.
    pub fn health(&self, peer: NodeId, threshold: Ticks) -> Health {
        health(self.down_ticks(peer), threshold, self.tolerance)
    }

    /// The peers that missed ticks, tolerated ones included, in id order.
    pub fn silent(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.down.keys().copied()
    }

    /// The peers counted as down under `threshold` (silent for longer than tolerated), in
    /// id order.
    pub fn down_set(&self, threshold: Ticks) -> BTreeSet<NodeId> {
        let tolerated = tolerated(self.tolerance, threshold);
        self.down
            .iter()
            .filter(|(_, ticks)| **ticks > tolerated)
            .map(|(peer, _)| *peer)
            .collect()
    }

    /// One tick over `peers`: a peer not heard since the last tick is counted down, a heard
    /// one is reset. Counters saturate at `cap` (at least the threshold) so that the state
    /// space stays finite. Only the peers for which `active` holds take part in the
    /// failover logic: a new set of *active* down peers (past the tolerance) restarts their
    /// counts, from the first count past the tolerance, and only their [`Health`] changes
    /// are returned. Every peer is counted, so that "heard recently" holds for members that
    /// were failed over too.
    pub fn tick(
        &mut self,
        peers: impl IntoIterator<Item = NodeId>,
        active: impl Fn(NodeId) -> bool,
        threshold: Ticks,
        cap: Ticks,
    ) -> Vec<(NodeId, Health)> {
        let cap = cap.max(threshold).max(1);
        let tolerated = tolerated(self.tolerance, threshold);
        let before = std::mem::take(&mut self.down);
        let mut next = BTreeMap::new();
        for peer in peers {
            if !self.heard.contains(&peer) {
                let ticks = before.get(&peer).copied().unwrap_or(0) + 1;
                next.insert(peer, ticks.min(cap));
            }
        }
        // A new set of down nodes restarts every count: the rule for several down nodes.
        let down = |counts: &BTreeMap<NodeId, Ticks>, p: &NodeId| {
            active(*p) && counts.get(p).is_some_and(|t| *t > tolerated)
        };
        let down_before = before.keys().filter(|p| down(&before, p));
        let down_now = next.keys().filter(|p| down(&next, p));
        if !down_now.eq(down_before) {
            for (peer, ticks) in next.iter_mut() {
                if active(*peer) && *ticks > tolerated {
                    *ticks = tolerated + 1;
                }
            }
        }
        self.down = next;
        self.heard.clear();
        let mut changed = Vec::new();
        for peer in before.keys().chain(self.down.keys()) {
            if !active(*peer) || changed.iter().any(|(p, _)| p == peer) {
                continue;
            }
            let old = health(
                before.get(peer).copied().unwrap_or(0),
                threshold,
                self.tolerance,
            );
            let new = self.health(*peer, threshold);
            if old != new {
                changed.push((*peer, new));
            }
        }
        changed
    }

    /// The peer that may be failed over: the only active down peer, once it reached
    /// `Failover`. `warm` caps the counters: a detector that started `warm` ticks ago
    /// knows no more.
    pub fn candidate(
        &self,
        threshold: Ticks,
        warm: Ticks,
        active: impl Fn(NodeId) -> bool,
    ) -> Option<NodeId> {
        let tolerated = tolerated(self.tolerance, threshold);
        let mut down = self
            .down
            .iter()
            .filter(|(peer, ticks)| active(**peer) && **ticks > tolerated);
        match (down.next(), down.next()) {
            (Some((peer, ticks)), None)
                if health((*ticks).min(warm), threshold, self.tolerance) == Health::Failover =>
            {
                Some(*peer)
            }
            _ => None,
        }
    }

    /// Forgets every count: used when a node restarts or when counters start cold.
    pub fn reset(&mut self, peers: impl IntoIterator<Item = NodeId>) {
        *self = Detector::new(peers, self.tolerance);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const A: NodeId = NodeId(1);
    const B: NodeId = NodeId(2);
    const ALL: fn(NodeId) -> bool = |_| true;

    #[test]
    fn health_steps_through_grace() {
        assert_eq!(health(0, 5, 0), Health::Up);
        assert_eq!(health(1, 5, 0), Health::HalfDown);
        assert_eq!(health(3, 5, 0), Health::NearlyDown);
        assert_eq!(health(4, 5, 0), Health::NearlyDown);
        assert_eq!(health(5, 5, 0), Health::Failover);
        assert_eq!(health(1, 2, 0), Health::NearlyDown);
        assert_eq!(health(2, 2, 0), Health::Failover);
    }

    #[test]
    fn silent_peer_becomes_candidate_after_threshold() {
        let mut d = Detector::new([A, B], 0);
        for _ in 0..4 {
            d.heard(B);
            d.tick([A, B], ALL, 3, 3);
        }
        assert_eq!(d.candidate(3, u32::MAX, ALL), Some(A));
        assert_eq!(
            d.candidate(3, 2, ALL),
            None,
            "cold counters know only 2 ticks"
        );
    }

    #[test]
    fn a_frame_resets_the_count() {
        let mut d = Detector::new([A], 0);
        d.tick([A], ALL, 3, 3);
        d.tick([A], ALL, 3, 3);
        d.heard(A);
        d.tick([A], ALL, 3, 3);
        assert_eq!(d.down_ticks(A), 0);
    }

    #[test]
    fn two_down_nodes_block_and_restart_counts() {
        let mut d = Detector::new([A, B], 0);
        d.tick([A, B], ALL, 3, 3);
        assert_eq!(
            d.down_set(3),
            BTreeSet::new(),
            "a new detector has heard everybody"
        );
        d.heard(B);
        d.tick([A, B], ALL, 3, 3);
        d.heard(B);
        d.tick([A, B], ALL, 3, 3);
        assert_eq!(d.down_ticks(A), 2);
        d.tick([A, B], ALL, 3, 3);
        assert_eq!(d.down_ticks(A), 1, "a new down set restarts the count");
        d.tick([A, B], ALL, 3, 3);
        d.tick([A, B], ALL, 3, 3);
        assert_eq!(
            d.candidate(3, u32::MAX, ALL),
            None,
            "two down nodes are never failed over"
        );
    }

    #[test]
    fn a_peer_out_of_the_cluster_is_counted_but_never_a_candidate() {
        let mut d = Detector::new([A, B], 0);
        let only_b = |p: NodeId| p == B;
        // A fresh detector has heard everyone: the first tick counts nobody down.
        for _ in 0..7 {
            d.tick([A, B], only_b, 2, 5);
        }
        assert_eq!(
            d.down_ticks(A),
            5,
            "counted up to the cap, not the threshold"
        );
        assert_eq!(d.down_ticks(B), 5);
        assert_eq!(
            d.candidate(2, u32::MAX, only_b),
            Some(B),
            "A does not block B"
        );
        assert_eq!(d.candidate(2, u32::MAX, |p| p == A), Some(A));
    }

    #[test]
    fn one_late_heartbeat_is_tolerated_and_still_counts_towards_the_timeout() {
        assert_eq!(health(1, 5, 1), Health::Up);
        assert_eq!(health(2, 5, 1), Health::HalfDown);
        assert_eq!(health(5, 5, 1), Health::Failover);
        assert_eq!(
            health(1, 1, 1),
            Health::Failover,
            "never more than the timeout"
        );
        let mut d = Detector::new([A, B], 1);
        // B's heartbeat comes just after a tick, then two in the next period; A is dead.
        for round in 0..6 {
            if round != 2 {
                d.heard(B);
            }
            d.tick([A, B], ALL, 5, 5);
            assert_eq!(d.health(B, 5), Health::Up, "round {round}");
        }
        assert_eq!(d.down_ticks(A), 5, "the late B never restarted A's count");
        assert_eq!(d.candidate(5, u32::MAX, ALL), Some(A));
        assert_eq!(d.down_set(5), BTreeSet::from([A]));
    }

    #[test]
    fn a_second_down_node_restarts_counts_from_the_first_untolerated_tick() {
        let mut d = Detector::new([A, B], 1);
        for _ in 0..4 {
            d.heard(B);
            d.tick([A, B], ALL, 5, 5);
        }
        assert_eq!(
            d.down_ticks(A),
            3,
            "a new detector heard A before the first tick"
        );
        d.tick([A, B], ALL, 5, 5);
        assert_eq!(d.down_ticks(B), 1, "tolerated: no new down set yet");
        assert_eq!(d.down_ticks(A), 4);
        d.tick([A, B], ALL, 5, 5);
        assert_eq!(
            (d.down_ticks(A), d.down_ticks(B)),
            (2, 2),
            "restarted past the tolerance"
        );
        assert_eq!(d.candidate(5, u32::MAX, ALL), None);
    }

    proptest! {
        /// Whatever the pattern of frames and the tolerance, a candidate was silent for
        /// `threshold` ticks in a row, the other peer missed no more than the tolerated
        /// ticks, and counters never exceed the threshold.
        #[test]
        fn candidate_was_silent_long_enough(
            threshold in 1u32..6,
            tolerance in 0u32..3,
            frames in proptest::collection::vec((any::<bool>(), any::<bool>()), 0..40),
        ) {
            let mut d = Detector::new([A, B], tolerance);
            let tolerated = tolerated(tolerance, threshold);
            let mut silent_a = 0u32;
            let mut silent_b = 0u32;
            for (from_a, from_b) in frames {
                if from_a { d.heard(A); silent_a = 0 } else { silent_a += 1 }
                if from_b { d.heard(B); silent_b = 0 } else { silent_b += 1 }
                d.tick([A, B], ALL, threshold, threshold);
                prop_assert!(d.down_ticks(A) <= threshold && d.down_ticks(B) <= threshold);
                match d.candidate(threshold, u32::MAX, ALL) {
                    Some(p) if p == A => {
                        prop_assert!(silent_a >= threshold && silent_b <= tolerated)
                    }
                    Some(p) => {
                        prop_assert!(p == B && silent_b >= threshold && silent_a <= tolerated)
                    }
                    None => {}
                }
            }
        }
    }
}
