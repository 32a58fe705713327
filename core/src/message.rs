//! Messages between nodes. Every design sends heartbeats and `Commit`s; the election,
//! proposal and rejoin messages are `fenced` only.

use crate::config::SharedConfig;
use crate::ids::{Boot, NodeId, Revision, Term};
use serde::{Deserialize, Serialize};

/// What a node says of its own part in `fenced`, in each heartbeat.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub enum Office {
    /// Neither candidate nor leader.
    #[default]
    None,
    /// Asking for this term.
    Candidate(Term),
    /// Leads this term.
    Leader(Term),
}

/// A message between two nodes.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Message {
    /// "I am alive", sent every tick: the only frame that counts for detection.
    Heartbeat {
        /// `legacy` and `poc`: the sender holds the orchestrator's singletons; this keeps
        /// every node's registry view in sync.
        orchestrator: bool,
        /// `fenced`: the sender's office.
        office: Office,
        /// The sender hears a majority (itself included). A node that does not cannot
        /// lead: its peers do not wait for it (the deaf orchestrator).
        quorum: bool,
        /// Term in which the sender accepted its config.
        accepted_term: Term,
        /// Revision of the sender's config: the `fenced` orchestrator sends its committed
        /// config to a peer that is behind.
        revision: Revision,
    },
    /// Would you vote for me in `term`? Binds nobody: a node asks for a real term only
    /// once a majority says yes, so a node cut off alone never raises terms (pre-vote).
    PreVote {
        /// The term the sender would ask for.
        term: Term,
    },
    /// Yes to a pre-vote: the sender hears no live orchestrator and would vote.
    PreVoteGranted {
        /// The term of the pre-vote.
        term: Term,
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
        config: SharedConfig,
        /// The voter's disk.
        boot: Boot,
    },
    /// The leader of `term` asks to accept `config`.
    Propose {
        /// The leader's term.
        term: Term,
        /// The proposed config.
        config: SharedConfig,
    },
    /// The sender accepted and persisted the proposal of `term` at `revision`.
    Accepted {
        /// The proposal's term.
        term: Term,
        /// The proposal's revision.
        revision: Revision,
        /// The acceptor's disk.
        boot: Boot,
    },
    /// The sender refuses `term`: it promised `promised`, or it hears a live orchestrator.
    Reject {
        /// The refused term.
        term: Term,
        /// The sender's promise.
        promised: Term,
    },
    /// A committed config (in `legacy` and `poc`: a config applied by its author).
    Commit {
        /// The committing term (0 in `legacy` and `poc`).
        term: Term,
        /// The committed config.
        config: SharedConfig,
    },
    /// A node that lost its disk asks to be known by a new one before it votes again.
    Rejoin {
        /// The new disk.
        boot: Boot,
    },
}

impl Message {
    /// A short name for logs and traces.
    pub fn kind(&self) -> &'static str {
        match self {
            Message::Heartbeat { .. } => "heartbeat",
            Message::PreVote { .. } => "pre-vote",
            Message::PreVoteGranted { .. } => "pre-vote-granted",
            Message::RequestVote { .. } => "request-vote",
            Message::Vote { .. } => "vote",
            Message::Propose { .. } => "propose",
            Message::Accepted { .. } => "accepted",
            Message::Reject { .. } => "reject",
            Message::Commit { .. } => "commit",
            Message::Rejoin { .. } => "rejoin",
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
