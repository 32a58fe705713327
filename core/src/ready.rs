//! What one step asks of the driver: a [`Ready`] with the state to persist, the messages
//! to send once it is durable, the [`Commit`] this node made or learned, and events.

use crate::config::SharedConfig;
use crate::event::Event;
use crate::ids::{NodeId, Term};
use crate::message::Outgoing;
use crate::state::Persistent;
#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

/// A config this node knows to be committed: in `fenced`, accepted by a majority in `term`;
/// elsewhere applied by its author.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Commit {
    /// The committing term (0 outside `fenced`).
    pub term: Term,
    /// The committing node.
    pub by: NodeId,
    /// The committed config.
    pub config: SharedConfig,
    /// Whether this node learned it from a peer rather than committing it itself.
    #[cfg_attr(feature = "serde", serde(default))]
    pub learned: bool,
}

/// What the driver must do after one step. The contract is in the types: the messages
/// come out only once the state to persist has been taken out ([`Ready::take_persist`]) to
/// be written durably, so a driver cannot send a vote or an acceptance and forget the
/// promise it rests on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[must_use = "a Ready must be carried out: persist, then send"]
pub struct Ready {
    /// State to write durably before any message of this step leaves the node.
    pub(crate) persist: Option<Persistent>,
    /// Messages to send once `persist` (if any) is durable.
    pub(crate) messages: Vec<Outgoing>,
    /// A config this node committed or learned to be committed.
    pub commit: Option<Commit>,
    /// Facts worth logging.
    pub events: Vec<Event>,
}

/// [`Ready::messages`] was asked for while the state to persist was still in the `Ready`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "this step has state to persist: take it with take_persist and write it durably before sending"
)]
pub struct Unpersisted;

impl Ready {
    /// Whether the step changed nothing that the driver must see.
    pub fn is_empty(&self) -> bool {
        self.persist.is_none()
            && self.messages.is_empty()
            && self.commit.is_none()
            && self.events.is_empty()
    }

    /// The state this step must write durably before any of its messages leaves, if any.
    pub fn persist(&self) -> Option<&Persistent> {
        self.persist.as_ref()
    }

    /// Takes the state to persist out of this step: write it durably, then take the
    /// messages with [`Ready::messages`].
    pub fn take_persist(&mut self) -> Option<Persistent> {
        self.persist.take()
    }

    /// Takes the messages of this step, to send now. Refused while the state to persist is
    /// still here: take it with [`Ready::take_persist`] and write it first.
    pub fn messages(&mut self) -> Result<Vec<Outgoing>, Unpersisted> {
        if self.persist.is_some() {
            return Err(Unpersisted);
        }
        Ok(std::mem::take(&mut self.messages))
    }
}
