//! Messages between nodes. Every design sends heartbeats and `Commit`s; the election and
//! proposal messages are `fenced` only.

use crate::config::ClusterConfig;
use crate::ids::{NodeId, Revision, Term};
use serde::{Deserialize, Serialize};

/// A message between two nodes.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Message {
    /// "I am alive"; in `legacy` and `poc` it also says whether the sender holds the
    /// singletons, which keeps every node's registry view in sync.
    Heartbeat {
        /// The sender holds the orchestrator's singletons.
        orchestrator: bool,
        /// Revision of the sender's config: the `fenced` orchestrator sends its committed
        /// config to a peer that is behind (one that restarted while a change committed).
        revision: Revision,
    },
    /// A candidate asks for `term`.
    RequestVote {
        /// The term asked for.
        term: Term,
    },
    /// A vote for `term`, with the voter's last accepted config.
    Vote {
        /// The term granted.
        term: Term,
        /// Term in which `config` was accepted.
        accepted_term: Term,
        /// The voter's last accepted config.
        config: ClusterConfig,
    },
    /// The leader of `term` asks to accept `config`.
    Propose {
        /// The leader's term.
        term: Term,
        /// The proposed config.
        config: ClusterConfig,
    },
    /// The sender accepted and persisted the proposal of `term` at `revision`.
    Accepted {
        /// The proposal's term.
        term: Term,
        /// The proposal's revision.
        revision: Revision,
    },
    /// The sender refuses `term`: it promised `promised`, which is newer.
    Reject {
        /// The refused term.
        term: Term,
        /// The newer term the sender promised.
        promised: Term,
    },
    /// A committed config (in `legacy` and `poc`: a config applied by its author).
    Commit {
        /// The committing term (0 in `legacy` and `poc`).
        term: Term,
        /// The committed config.
        config: ClusterConfig,
    },
}

impl Message {
    /// A short name for logs and traces.
    pub fn kind(&self) -> &'static str {
        match self {
            Message::Heartbeat { .. } => "heartbeat",
            Message::RequestVote { .. } => "request-vote",
            Message::Vote { .. } => "vote",
            Message::Propose { .. } => "propose",
            Message::Accepted { .. } => "accepted",
            Message::Reject { .. } => "reject",
            Message::Commit { .. } => "commit",
        }
    }
}

/// A message to send.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Outgoing {
    /// The destination.
    pub to: NodeId,
    /// The message.
    pub msg: Message,
}
