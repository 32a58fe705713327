//! Terms and majorities (`fenced`): an election collects votes, each carrying the voter's
//! last accepted config; a proposal collects acceptances. Configs are ordered by
//! `(accepted term, revision)`, so the winner of a term builds on the newest config that any
//! majority member accepted, and every committed config is among those it sees.
//!
//! Every vote and acceptance names the voter's disk ([`Boot`]); one from a disk that the
//! config no longer knows the node by (the node lost it and rejoined) is not counted.

use crate::config::{ClusterConfig, SharedConfig};
use crate::ids::{Boot, NodeId, Term};
use crate::params::Design;
#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// How many of `members` form a majority.
pub fn majority(members: usize) -> usize {
    members / 2 + 1
}

/// Whether a cluster of `members` nodes running `design` can still fail a node over once
/// one member is lost: `fenced` commits at a majority, which the others must still make;
/// `legacy` and `poc` commit on the orchestrator alone.
pub fn failover_survives_one_loss(design: Design, members: usize) -> bool {
    match design {
        Design::Fenced => members.saturating_sub(1) >= majority(members),
        Design::Legacy | Design::Poc => members >= 2,
    }
}

/// Whether `(term_a, a)` is newer than `(term_b, b)`.
pub fn newer(term_a: Term, a: &ClusterConfig, term_b: Term, b: &ClusterConfig) -> bool {
    (term_a, a.revision) > (term_b, b.revision)
}

/// How many of `answers` come from the disk that `config` knows each node by.
fn counted(answers: &BTreeMap<NodeId, Boot>, config: &ClusterConfig) -> usize {
    answers
        .iter()
        .filter(|(node, boot)| config.boot_of(**node) == **boot)
        .count()
}

/// Pre-votes for `term`: nobody promised anything yet.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct PreElection {
    /// The term the node would ask for.
    pub term: Term,
    /// Who said yes (the node included).
    pub granted: BTreeSet<NodeId>,
    /// Who said no.
    #[cfg_attr(feature = "serde", serde(default))]
    pub refused: BTreeSet<NodeId>,
}

impl PreElection {
    /// Whether a majority of `members` said yes.
    pub fn won(&self, members: usize) -> bool {
        self.granted.len() >= majority(members)
    }

    /// Whether so many of `members` said no that a majority can no longer say yes.
    pub fn lost(&self, members: usize) -> bool {
        members.saturating_sub(self.refused.len()) < majority(members)
    }
}

/// A candidacy for `term`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Election {
    /// The term asked for.
    pub term: Term,
    /// Who granted it and from which disk (the candidate included).
    pub voters: BTreeMap<NodeId, Boot>,
    /// Term in which `newest` was accepted.
    pub newest_term: Term,
    /// The newest config among the voters'.
    pub newest: SharedConfig,
    /// Who refused it.
    #[cfg_attr(feature = "serde", serde(default))]
    pub refused: BTreeSet<NodeId>,
}

impl Election {
    /// Starts a candidacy; the candidate votes for itself with its own config.
    pub fn new(
        term: Term,
        candidate: NodeId,
        boot: Boot,
        accepted_term: Term,
        config: SharedConfig,
    ) -> Self {
        Election {
            term,
            voters: BTreeMap::from([(candidate, boot)]),
            newest_term: accepted_term,
            newest: config,
            refused: BTreeSet::new(),
        }
    }

    /// Counts a vote and keeps the newer config.
    pub fn add_vote(
        &mut self,
        voter: NodeId,
        boot: Boot,
        accepted_term: Term,
        config: &SharedConfig,
    ) {
        self.voters.insert(voter, boot);
        if newer(accepted_term, config, self.newest_term, &self.newest) {
            self.newest_term = accepted_term;
            self.newest = config.clone();
        }
    }

    /// Whether a majority of `members` voted, counting only the disks that the newest
    /// config knows.
    pub fn won(&self, members: usize) -> bool {
        counted(&self.voters, &self.newest) >= majority(members)
    }

    /// Whether so many of `members` refused that a majority can no longer vote for it.
    pub fn lost(&self, members: usize) -> bool {
        members.saturating_sub(self.refused.len()) < majority(members)
    }
}

/// A config proposed in the leader's term, waiting for a majority.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Proposal {
    /// The proposed config.
    pub config: SharedConfig,
    /// Who accepted and persisted it, and from which disk (the leader included).
    pub acks: BTreeMap<NodeId, Boot>,
}

impl Proposal {
    /// Whether a majority of `members` accepted it, counting only the disks that the
    /// proposed config knows.
    pub fn committed(&self, members: usize) -> bool {
        counted(&self.acks, &self.config) >= majority(members)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_fenced_clusters_of_two_lose_failover_with_one_node() {
        assert!(!failover_survives_one_loss(Design::Fenced, 2));
        assert!(failover_survives_one_loss(Design::Fenced, 3));
        assert!(failover_survives_one_loss(Design::Fenced, 4));
        assert!(failover_survives_one_loss(Design::Legacy, 2));
        assert!(failover_survives_one_loss(Design::Poc, 2));
    }
    use crate::config::Settings;
    use proptest::prelude::*;

    #[test]
    fn majorities() {
        assert_eq!(majority(1), 1);
        assert_eq!(majority(3), 2);
        assert_eq!(majority(4), 3);
        assert_eq!(majority(5), 3);
    }

    #[test]
    fn a_vote_from_a_lost_disk_does_not_count() {
        let members = [NodeId(0), NodeId(1), NodeId(2)];
        let mut rejoined = ClusterConfig::initial(members, Settings::default());
        rejoined.revision = 5;
        rejoined.boots.insert(NodeId(2), 7);
        let rejoined = SharedConfig::new(rejoined);
        let mut e = Election::new(3, NodeId(0), 0, 1, rejoined.clone());
        e.add_vote(NodeId(2), 0, 1, &rejoined);
        assert!(!e.won(3), "n2's vote came from the disk it lost");
        e.add_vote(NodeId(2), 7, 1, &rejoined);
        assert!(e.won(3));
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
            let mut e = Election::new(9, NodeId(0), 0, 0, base.clone().into());
            let mut best = (0, base.revision);
            for (i, (term, rev)) in votes.iter().enumerate() {
                let mut c = base.clone();
                c.revision = *rev;
                e.add_vote(NodeId(i as u16 + 1), 0, *term, &c.into());
                best = best.max((*term, *rev));
            }
            prop_assert_eq!((e.newest_term, e.newest.revision), best);
        }
    }
}
