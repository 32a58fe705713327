//! Messages between nodes. Every design sends heartbeats and `Commit`s; the election,
//! proposal and rejoin messages are `fenced` only.

use crate::config::SharedConfig;
use crate::ids::{Boot, NodeId, Revision, Term};
#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};
use std::fmt;

/// What a node says of its own part in `fenced`, in each heartbeat.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[non_exhaustive]
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
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[non_exhaustive]
pub enum Message {
    /// "I am alive", sent every tick: the only frame that counts for detection.
    Heartbeat {
        /// `legacy` and `poc`: the sender holds the orchestrator's singletons; this keeps
        /// every node's registry view in sync.
        orchestrator: bool,
        /// `fenced`: the sender's office.
        office: Office,
        /// The sender could lead: it hears a majority (itself included), holds its disk (it
        /// is not rejoining after losing it) and knows of no failover of its own. Its peers
        /// do not wait for a node that cannot lead (the deaf orchestrator, a node back
        /// without its disk, a node that learned it was failed over while they did not),
        /// even while they hear it.
        can_lead: bool,
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
    /// The sender refuses `term`: it promised `promised`, it granted a pre-vote for
    /// `floor`, or it hears a live orchestrator.
    Reject {
        /// The refused term.
        term: Term,
        /// The sender's promise.
        promised: Term,
        /// The highest term the sender granted a pre-vote for, if above its promise
        /// (else 0): it backs no term below it.
        #[cfg_attr(feature = "serde", serde(default))]
        floor: Term,
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

/// The kind of a [`Message`], without its contents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
#[non_exhaustive]
pub enum MessageKind {
    /// [`Message::Heartbeat`].
    Heartbeat,
    /// [`Message::PreVote`].
    PreVote,
    /// [`Message::PreVoteGranted`].
    PreVoteGranted,
    /// [`Message::RequestVote`].
    RequestVote,
    /// [`Message::Vote`].
    Vote,
    /// [`Message::Propose`].
    Propose,
    /// [`Message::Accepted`].
    Accepted,
    /// [`Message::Reject`].
    Reject,
    /// [`Message::Commit`].
    Commit,
    /// [`Message::Rejoin`].
    Rejoin,
}

impl MessageKind {
    /// A short name for logs, metrics and traces.
    pub fn name(self) -> &'static str {
        match self {
            MessageKind::Heartbeat => "heartbeat",
            MessageKind::PreVote => "pre-vote",
            MessageKind::PreVoteGranted => "pre-vote-granted",
            MessageKind::RequestVote => "request-vote",
            MessageKind::Vote => "vote",
            MessageKind::Propose => "propose",
            MessageKind::Accepted => "accepted",
            MessageKind::Reject => "reject",
            MessageKind::Commit => "commit",
            MessageKind::Rejoin => "rejoin",
        }
    }
}

impl fmt::Display for MessageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Message {
    /// The kind of this message.
    pub fn kind(&self) -> MessageKind {
        match self {
            Message::Heartbeat { .. } => MessageKind::Heartbeat,
            Message::PreVote { .. } => MessageKind::PreVote,
            Message::PreVoteGranted { .. } => MessageKind::PreVoteGranted,
            Message::RequestVote { .. } => MessageKind::RequestVote,
            Message::Vote { .. } => MessageKind::Vote,
            Message::Propose { .. } => MessageKind::Propose,
            Message::Accepted { .. } => MessageKind::Accepted,
            Message::Reject { .. } => MessageKind::Reject,
            Message::Commit { .. } => MessageKind::Commit,
            Message::Rejoin { .. } => MessageKind::Rejoin,
        }
    }
}

/// A message to send.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Outgoing {
    /// The destination.
    pub to: NodeId,
    /// The message.
    pub msg: Message,
}
