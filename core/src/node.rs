//! [`Node`]: one node with its parameters, the type a driver owns. Its inputs are a few
//! verbs ([`Node::tick`], [`Node::receive`], [`Node::node_down`], [`Node::admin`], or all of
//! them as one [`Input`] to [`Node::step`]); each returns a [`Ready`] of what the driver
//! must do, or an error of its own that changed nothing.
//!
//! Calling contract (the driver MUST follow it):
//! 1. Feed inputs one at a time: [`Node::tick`] once per heartbeat period, every message,
//!    every `nodedown`, every admin command.
//! 2. If the [`Ready`] holds state to persist ([`Ready::take_persist`]), write it durably
//!    **before** sending any of its messages, and feed no other input until then;
//!    [`Ready::messages`] refuses to hand the messages out while the state is still in
//!    the `Ready`. Messages may then be sent in any order, lost or duplicated: the
//!    protocol copes.
//! 3. [`Ready::commit`] (a config this node committed or learned to be committed) and
//!    [`Ready::events`] are facts to act on and to log.
//! 4. After a restart, rebuild the node with [`Node::restart`] from the last persisted
//!    [`Persistent`]. A node whose disk is lost must not start from a fresh state: it
//!    rejoins with [`Node::rejoin`] and a [`Boot`] never used before.

use crate::admin::{AdminCommand, AdminRefusal};
use crate::config::{Settings, SharedConfig};
use crate::detector::Health;
use crate::ids::{Boot, NodeId, Term, Ticks};
use crate::message::Message;
use crate::params::Params;
use crate::ready::Ready;
use crate::state::{NodeState, Persistent, Role};
#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// One input of a node, for drivers that replay recorded inputs: the verbs of [`Node`]
/// as data.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[non_exhaustive]
pub enum Input {
    /// One heartbeat period elapsed: the node sends its heartbeat and counts the peers it
    /// did not hear from.
    Tick,
    /// A message from a peer.
    Message {
        /// The sender.
        from: NodeId,
        /// The message.
        msg: Message,
    },
    /// The connection to `peer` is gone (at once after a clean shutdown, after the net-tick
    /// timeout after an unclean one).
    NodeDown {
        /// The lost peer.
        peer: NodeId,
    },
    /// An administrator's command.
    Admin(AdminCommand),
}

/// A message or notice named a node that is not a peer of this node. Nothing changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0} is not a peer of this node")]
pub struct UnknownPeer(pub NodeId);

/// A refused [`Input`]. The node's state is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StepError {
    /// A message or notice named a node that is not a peer (a protocol refusal).
    #[error(transparent)]
    UnknownPeer(#[from] UnknownPeer),
    /// An admin command was refused (an operator's refusal).
    #[error(transparent)]
    Admin(#[from] AdminRefusal),
}

/// A persisted state that cannot be restarted with these parameters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RestartError {
    /// The state's config names other members than the parameters do.
    #[error("the state is for members {stored:?}, but the parameters name {configured:?}")]
    OtherMembers {
        /// Members in the persisted config.
        stored: Vec<NodeId>,
        /// Members in the parameters.
        configured: Vec<NodeId>,
    },
}

/// One node: its static [`Params`] and its [`NodeState`]. Cheap to clone (the parameters
/// are shared); equality and hashing look at the state, since nodes of one cluster are
/// told apart by their ids, which the state's detector and config already hold.
#[derive(Clone)]
pub struct Node {
    params: Arc<Params>,
    state: NodeState,
}

impl Node {
    fn new(params: Arc<Params>, state: NodeState) -> Self {
        Node { params, state }
    }

    /// A member of a brand-new cluster, from the first config (every member starts from the
    /// same one). Persist [`Node::persistent`] before the node first steps.
    pub fn bootstrap(params: impl Into<Arc<Params>>, settings: Settings) -> Self {
        let params = params.into();
        let state = NodeState::bootstrap(&params, settings);
        Node::new(params, state)
    }

    /// A node starting from the `persistent` state it last wrote: it hears every peer as
    /// just seen and holds no role. A state whose config names other members than
    /// `params` (another cluster's disk, or a config edited since) is refused.
    pub fn restart(
        params: impl Into<Arc<Params>>,
        persistent: Persistent,
    ) -> Result<Self, RestartError> {
        let params = params.into();
        let state = NodeState::restart(&params, persistent)?;
        Ok(Node::new(params, state))
    }

    /// A node whose disk was lost, starting on the new disk `boot` (a value never used
    /// before by this node). It votes and accepts nothing until the cluster has committed
    /// `boot` as its disk, so that promises made by the lost disk are never broken.
    /// Persist [`Node::persistent`] before the node first steps.
    pub fn rejoin(params: impl Into<Arc<Params>>, settings: Settings, boot: Boot) -> Self {
        let params = params.into();
        let state = NodeState::rejoin(&params, settings, boot);
        Node::new(params, state)
    }

    /// A node of a settled cluster whose orchestrator is `orchestrator`, in term 1 for
    /// `fenced` (every node must be built with the same values). The model starts here.
    pub fn settled(
        params: impl Into<Arc<Params>>,
        settings: Settings,
        orchestrator: NodeId,
    ) -> Self {
        let params = params.into();
        let state = NodeState::settled(&params, settings, orchestrator);
        Node::new(params, state)
    }

    // ---- inputs ----------------------------------------------------------------------

    /// One heartbeat period elapsed.
    pub fn tick(&mut self) -> Ready {
        self.state
            .step(&self.params, Input::Tick)
            .expect("a tick is never refused")
    }

    /// A message from the peer `from`.
    pub fn receive(&mut self, from: NodeId, msg: Message) -> Result<Ready, UnknownPeer> {
        self.step(Input::Message { from, msg })
            .map_err(|e| match e {
                StepError::UnknownPeer(e) => e,
                StepError::Admin(_) => unreachable!("a message is no admin command"),
            })
    }

    /// The connection to `peer` is gone.
    pub fn node_down(&mut self, peer: NodeId) -> Result<Ready, UnknownPeer> {
        self.step(Input::NodeDown { peer }).map_err(|e| match e {
            StepError::UnknownPeer(e) => e,
            StepError::Admin(_) => unreachable!("a nodedown is no admin command"),
        })
    }

    /// An administrator's command. Only the orchestrator takes it; it becomes one config
    /// change, reported in a later [`Ready::commit`] once committed.
    pub fn admin(&mut self, command: AdminCommand) -> Result<Ready, AdminRefusal> {
        self.step(Input::Admin(command)).map_err(|e| match e {
            StepError::Admin(e) => e,
            StepError::UnknownPeer(_) => unreachable!("an admin command names no peer"),
        })
    }

    /// Any input, as data (a recorded run replays through this).
    pub fn step(&mut self, input: Input) -> Result<Ready, StepError> {
        self.state.step(&self.params, input)
    }

    // ---- getters ---------------------------------------------------------------------

    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.params.id
    }

    /// Its static parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Its whole state, for inspection.
    pub fn state(&self) -> &NodeState {
        &self.state
    }

    /// What is (or must be) on its disk.
    pub fn persistent(&self) -> &Persistent {
        self.state.persistent()
    }

    /// The newest config it holds (accepted, not necessarily committed: committed configs
    /// come out in [`Ready::commit`]).
    pub fn config(&self) -> &SharedConfig {
        self.state.config()
    }

    /// Its part in the `fenced` protocol.
    pub fn role(&self) -> &Role {
        self.state.role()
    }

    /// The highest term it knows of.
    pub fn term(&self) -> Term {
        self.state.term()
    }

    /// The term it leads, if it leads one.
    pub fn leader_term(&self) -> Option<Term> {
        self.state.leader_term()
    }

    /// Whether it acts as orchestrator by its own view.
    pub fn is_orchestrator(&self) -> bool {
        self.state.is_orchestrator(&self.params)
    }

    /// The orchestrator it hears acting (itself if it leads), or none.
    pub fn orchestrator(&self) -> Option<NodeId> {
        self.state.orchestrator(&self.params)
    }

    /// The master as it sees it.
    pub fn master(&self) -> NodeId {
        self.state.master(&self.params)
    }

    /// Whether it hears a majority of the members, itself included.
    pub fn has_quorum(&self) -> bool {
        self.state.has_quorum(&self.params)
    }

    /// The heartbeat it sends on every tick.
    pub fn heartbeat(&self) -> Message {
        self.state.heartbeat(&self.params)
    }

    /// How `peer` looks to its detector under the current timeout.
    pub fn health(&self, peer: NodeId) -> Health {
        let threshold = self.config().settings.timeout_ticks.max(1);
        self.state.detector().health(peer, threshold)
    }

    /// Heartbeat periods `peer` has been silent, as its detector counts them.
    pub fn down_ticks(&self, peer: NodeId) -> Ticks {
        self.state.detector().down_ticks(peer)
    }
}

impl PartialEq for Node {
    fn eq(&self, other: &Self) -> bool {
        self.state == other.state
            && (Arc::ptr_eq(&self.params, &other.params) || self.params == other.params)
    }
}

impl Eq for Node {}

impl Hash for Node {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.state.hash(h);
    }
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Node")
            .field("id", &self.params.id)
            .field("state", &self.state)
            .finish()
    }
}
