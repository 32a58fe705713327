//! Facts worth logging that a step reports beside its commit.

use crate::config::FailoverRecord;
use crate::detector::Health;
use crate::ids::{Boot, NodeId, Revision, Term};
use crate::message::MessageKind;
use crate::rules::Blocked;
#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

/// Something worth logging.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[non_exhaustive]
pub enum Event {
    /// A peer's health changed.
    HealthChanged {
        /// The peer.
        peer: NodeId,
        /// Its new health.
        health: Health,
    },
    /// This node registered the singletons (`legacy`, `poc`).
    Registered,
    /// This node released the singletons (`legacy`, `poc`).
    Released,
    /// `nodedown` dropped `peer`'s registration.
    RegistrationDropped {
        /// The lost owner.
        peer: NodeId,
    },
    /// This node asks whether a majority would vote for it in `term`.
    PreVoting {
        /// The term.
        term: Term,
    },
    /// This node asks for `term`.
    CandidateFor {
        /// The term.
        term: Term,
    },
    /// This node won `term`.
    Elected {
        /// The term.
        term: Term,
    },
    /// This node left its candidacy or leadership of `term` because it saw `newer`; or
    /// left its pre-candidacy of `term` because it backed another node in `newer` (voted
    /// for it, or accepted from it), which may be the lower term.
    SteppedDown {
        /// The term left.
        term: Term,
        /// The newer term seen, or the term of the node backed.
        newer: Term,
    },
    /// This node gave up leading `term`: it no longer hears a majority (check-quorum).
    LostQuorum {
        /// The term given up.
        term: Term,
    },
    /// This node proposed a config change.
    Proposed {
        /// The term.
        term: Term,
        /// The proposed revision.
        revision: Revision,
    },
    /// A failover this node decided and committed.
    FailoverCommitted(FailoverRecord),
    /// The detector says `node` may be failed over, but the rules refuse.
    FailoverBlocked {
        /// The node that is down.
        node: NodeId,
        /// Why it is not failed over.
        reason: Blocked,
    },
    /// A peer sent a config of the same term and revision as this node's but different: two
    /// leaders of one term, which the protocol rules out. It was refused.
    ConflictingConfig {
        /// The sender.
        from: NodeId,
        /// The term.
        term: Term,
        /// The revision.
        revision: Revision,
    },
    /// This node lost its disk; it asks to be readmitted with the new one.
    Rejoining {
        /// The new disk.
        boot: Boot,
    },
    /// The cluster committed this node's new disk: it votes and accepts again.
    Rejoined {
        /// The new disk.
        boot: Boot,
    },
    /// A message that is stale or out of place was ignored.
    Ignored {
        /// The sender.
        from: NodeId,
        /// What it was.
        kind: MessageKind,
    },
}
