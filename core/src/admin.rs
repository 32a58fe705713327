//! Administrators' commands. Only the orchestrator takes them (in `fenced`: the leader of
//! the term its config names, with no change pending); each becomes one config change.

use crate::config::SettingsChange;
use crate::ids::NodeId;
use crate::params::{Design, Params};
use crate::ready::Ready;
use crate::rebalance;
use crate::state::{NodeState, Role};
#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

/// An administrator's command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[non_exhaustive]
pub enum AdminCommand {
    /// Changes some auto-failover settings; the rest stay as the config has them.
    ChangeSettings(SettingsChange),
    /// Resets the failover count (opens a new quota period).
    ResetCount,
    /// Starts a rebalance of `steps` committed steps, run by the orchestrator.
    StartRebalance {
        /// How many steps; one is committed per tick.
        steps: u32,
    },
    /// Stops the running rebalance.
    StopRebalance,
}

/// Why an admin command was refused. The node's state is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AdminRefusal {
    /// The node is not the orchestrator; ask the one named, if known.
    #[error(
        "this node is not the orchestrator (ask {})",
        .0.map_or("nobody known".to_string(), |n| n.to_string())
    )]
    NotOrchestrator(Option<NodeId>),
    /// A change is still being committed.
    #[error("a config change is being committed; retry")]
    Busy,
    /// This node has been failed over.
    #[error("this node has been failed over")]
    FailedOver,
    /// A settings change that names no setting.
    #[error("nothing to change")]
    NothingToChange,
    /// A timeout of zero ticks.
    #[error("timeout must be at least one tick")]
    ZeroTimeout,
    /// A quota of zero.
    #[error("max count must be at least 1")]
    ZeroMaxCount,
    /// A rebalance of zero steps.
    #[error("a rebalance needs at least one step")]
    ZeroSteps,
    /// A rebalance is already running.
    #[error("a rebalance is already running")]
    RebalanceRunning,
    /// No rebalance is running.
    #[error("no rebalance is running")]
    NoRebalance,
}

impl NodeState {
    pub(crate) fn on_admin(
        &mut self,
        params: &Params,
        command: AdminCommand,
        ready: &mut Ready,
    ) -> Result<(), AdminRefusal> {
        let not_orchestrator = || AdminRefusal::NotOrchestrator(self.orchestrator(params));
        if self.persistent.rejoining {
            return Err(not_orchestrator());
        }
        if !self.active(params) {
            return Err(AdminRefusal::FailedOver);
        }
        let term = match params.design {
            Design::Fenced => match &self.role {
                Role::Leader {
                    proposal: Some(_), ..
                } => return Err(AdminRefusal::Busy),
                Role::Leader { term, .. } if self.config().orchestrator == Some(params.id) => *term,
                _ => return Err(not_orchestrator()),
            },
            Design::Legacy | Design::Poc if self.is_orchestrator(params) => 0,
            Design::Legacy | Design::Poc => return Err(not_orchestrator()),
        };
        let mut next = self.config().next_revision();
        match command {
            AdminCommand::ChangeSettings(change) => {
                if change.is_empty() {
                    return Err(AdminRefusal::NothingToChange);
                }
                let settings = change.apply(next.settings);
                if settings.timeout_ticks == 0 {
                    return Err(AdminRefusal::ZeroTimeout);
                }
                if settings.max_count == 0 {
                    return Err(AdminRefusal::ZeroMaxCount);
                }
                next.settings = settings;
            }
            AdminCommand::ResetCount => {
                next.failover_count = 0;
                next.quota_epoch += 1;
            }
            AdminCommand::StartRebalance { steps } => {
                if steps == 0 {
                    return Err(AdminRefusal::ZeroSteps);
                }
                if next.rebalance.is_some() {
                    return Err(AdminRefusal::RebalanceRunning);
                }
                rebalance::start(&mut next, params.id, term, steps);
            }
            AdminCommand::StopRebalance => {
                if next.rebalance.is_none() {
                    return Err(AdminRefusal::NoRebalance);
                }
                next.rebalance = None;
            }
        }
        match params.design {
            Design::Fenced => self.propose(params, term, next, ready),
            Design::Legacy | Design::Poc => self.commit_locally(params, next, ready),
        }
        Ok(())
    }
}
