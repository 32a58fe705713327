//! Terms and majorities (`fenced`): an election collects votes, each carrying the voter's
//! last accepted config; a proposal collects acceptances. Configs are ordered by
//! `(accepted term, revision)`, so the winner of a term builds on the newest config that any
//! majority member accepted, and every committed config is among those it sees.

use crate::config::ClusterConfig;
use crate::ids::{NodeId, Term};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// How many of `members` form a majority.
pub fn majority(members: usize) -> usize {
    members / 2 + 1
}

/// Whether `(term_a, a)` is newer than `(term_b, b)`.
pub fn newer(term_a: Term, a: &ClusterConfig, term_b: Term, b: &ClusterConfig) -> bool {
    (term_a, a.revision) > (term_b, b.revision)
}

/// A candidacy for `term`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Election {
    /// The term asked for.
    pub term: Term,
    /// Who granted it (the candidate included).
    pub voters: BTreeSet<NodeId>,
    /// Term in which `newest` was accepted.
    pub newest_term: Term,
    /// The newest config among the voters'.
    pub newest: ClusterConfig,
}

impl Election {
    /// Starts a candidacy; the candidate votes for itself with its own config.
    pub fn new(term: Term, candidate: NodeId, accepted_term: Term, config: ClusterConfig) -> Self {
        Election {
            term,
            voters: BTreeSet::from([candidate]),
            newest_term: accepted_term,
            newest: config,
        }
    }

    /// Counts a vote and keeps the newer config.
    pub fn add_vote(&mut self, voter: NodeId, accepted_term: Term, config: &ClusterConfig) {
        self.voters.insert(voter);
        if newer(accepted_term, config, self.newest_term, &self.newest) {
            self.newest_term = accepted_term;
            self.newest = config.clone();
        }
    }

    /// Whether a majority of `members` voted.
    pub fn won(&self, members: usize) -> bool {
        self.voters.len() >= majority(members)
    }
}

/// A config proposed in the leader's term, waiting for a majority.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Proposal {
    /// The proposed config.
    pub config: ClusterConfig,
    /// Who accepted and persisted it (the leader included).
    pub acks: BTreeSet<NodeId>,
}

impl Proposal {
    /// Whether a majority of `members` accepted it.
    pub fn committed(&self, members: usize) -> bool {
        self.acks.len() >= majority(members)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use proptest::prelude::*;

    #[test]
    fn majorities() {
        assert_eq!(majority(1), 1);
        assert_eq!(majority(3), 2);
        assert_eq!(majority(4), 3);
        assert_eq!(majority(5), 3);
    }

    proptest! {
        /// Any two majorities of the same members share a member: the fact fencing rests on.
        #[test]
        fn majorities_intersect(n in 1usize..8, a in any::<u8>(), b in any::<u8>()) {
            let set = |bits: u8| (0..n).filter(|i| bits & (1 << i) != 0).collect::<BTreeSet<_>>();
            let (sa, sb) = (set(a), set(b));
            if sa.len() >= majority(n) && sb.len() >= majority(n) {
                prop_assert!(sa.intersection(&sb).next().is_some());
            }
        }

        /// The election keeps the newest config whatever the order of votes.
        #[test]
        fn election_keeps_newest(votes in proptest::collection::vec((0u32..4, 0u32..4), 1..6)) {
            let base = ClusterConfig::initial([NodeId(0)], Settings::default());
            let mut e = Election::new(9, NodeId(0), 0, base.clone());
            let mut best = (0, base.revision);
            for (i, (term, rev)) in votes.iter().enumerate() {
                let mut c = base.clone();
                c.revision = *rev;
                e.add_vote(NodeId(i as u16 + 1), *term, &c);
                best = best.max((*term, *rev));
            }
            prop_assert_eq!((e.newest_term, e.newest.revision), best);
        }
    }
}
