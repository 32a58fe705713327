//! What a check explores: design, cluster size, timing, timeouts and one bound per fault kind.

use failover_core::{Design, Ticks};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How time and delivery are modelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Timing {
    /// Any interleaving: nodes tick independently and messages take any time. For safety.
    Async,
    /// A global clock: every running node ticks together, and every message (and every due
    /// `nodedown`) is delivered or lost before the clock moves on. Time bounds become
    /// `always` properties.
    Timed,
}

impl Timing {
    /// The lowercase name used on command lines and in files.
    pub fn name(self) -> &'static str {
        match self {
            Timing::Async => "async",
            Timing::Timed => "timed",
        }
    }
}

impl fmt::Display for Timing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Timing {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "async" => Ok(Timing::Async),
            "timed" => Ok(Timing::Timed),
            other => Err(format!(
                "unknown timing {other:?} (expected async or timed)"
            )),
        }
    }
}

/// How many faults and events of each kind a run may inject (in total, not at once); the
/// model also counts what a run has spent in this shape.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Bounds {
    /// Clean shutdowns: peers get `nodedown` at once.
    pub clean_shutdowns: u8,
    /// Unclean shutdowns: `nodedown` only after the net-tick timeout.
    pub unclean_shutdowns: u8,
    /// Restarts of a stopped node from its persisted state.
    pub restarts: u8,
    /// Pauses (a stopped VM or a long GC); each may later resume with stale state.
    pub pauses: u8,
    /// Messages lost.
    pub losses: u8,
    /// Ticks at which a node misses the heartbeat of a live, reachable peer (a late
    /// heartbeat, a stale timer firing first after a pause): false suspicion.
    pub late_heartbeats: u8,
    /// Partitions (each later healable).
    pub partitions: u8,
    /// Rebalances started by an administrator (each may be stopped).
    pub rebalances: u8,
    /// Failover-count resets by an administrator.
    pub quota_resets: u8,
}

/// The full description of a model to check.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Setup {
    /// The design under check.
    pub design: Design,
    /// Cluster size.
    pub nodes: u16,
    /// Timing.
    pub timing: Timing,
    /// Fault bounds.
    pub bounds: Bounds,
    /// Highest term explored (`fenced`); states beyond it are not expanded.
    pub max_term: u32,
    /// Auto-failover timeout in ticks.
    pub timeout_ticks: Ticks,
    /// Master-liveness timeout in ticks.
    pub master_ticks: Ticks,
    /// Failover quota.
    pub max_count: u32,
    /// Ticks from an unclean loss (or pause, or partition) to `nodedown` (`timed`).
    pub net_tick_ticks: u8,
    /// Slack of the failover time bound: a lost node must be failed over within
    /// `timeout_ticks + slack_ticks` (`timed`).
    pub slack_ticks: u8,
    /// Last tick of the global clock (`timed`).
    pub horizon: u8,
    /// A deliberately wrong driver that sends a step's messages before writing its state:
    /// the model must catch it. For demonstrating the check, never for real use.
    #[serde(default)]
    pub unsafe_send_before_persist: bool,
}

impl Setup {
    /// The default setup of `design` for `nodes` nodes and `timing`: the budgets that the
    /// tests and the README's comparison use.
    pub fn new(design: Design, nodes: u16, timing: Timing) -> Self {
        let big = nodes >= 4;
        let bounds = match timing {
            // Measured to stay under a minute on two cores for 3 nodes; wider budgets are
            // checked by the tests (see README, "What is checked").
            Timing::Async => Bounds {
                clean_shutdowns: 0,
                unclean_shutdowns: 1,
                restarts: 0,
                pauses: if big { 0 } else { 1 },
                losses: 0,
                late_heartbeats: 0,
                partitions: 0,
                rebalances: 0,
                quota_resets: 0,
            },
            Timing::Timed => Bounds {
                clean_shutdowns: 0,
                unclean_shutdowns: 1,
                restarts: 0,
                pauses: 1,
                losses: if big { 0 } else { 1 },
                late_heartbeats: 0,
                partitions: if big { 0 } else { 1 },
                rebalances: 1,
                quota_resets: 0,
            },
        };
        // In async any silence may last any number of ticks, so a one-tick timeout loses
        // nothing for safety and keeps the counters small; timed needs the grace period.
        let timeout_ticks = match timing {
            Timing::Async => 1,
            Timing::Timed => 2,
        };
        let slack_ticks = 2;
        Setup {
            design,
            nodes,
            timing,
            bounds,
            max_term: match timing {
                Timing::Async => 3,
                Timing::Timed => 4,
            },
            timeout_ticks,
            master_ticks: 1,
            max_count: 1,
            net_tick_ticks: 4,
            slack_ticks,
            horizon: (timeout_ticks as u8) + slack_ticks + 2,
            unsafe_send_before_persist: false,
        }
    }

    /// The time bound of the in-time properties, in ticks after the loss.
    pub fn failover_bound(&self) -> u8 {
        self.timeout_ticks as u8 + self.slack_ticks
    }

    /// Checks the setup; the error names the offending value.
    pub fn validate(&self) -> Result<(), String> {
        if !(2..=6).contains(&self.nodes) {
            return Err(format!(
                "--nodes must be between 2 and 6, got {}",
                self.nodes
            ));
        }
        if self.timeout_ticks == 0 || self.timeout_ticks > 20 {
            return Err("--timeout-ticks must be between 1 and 20".into());
        }
        if self.master_ticks == 0 {
            return Err("--master-ticks must be at least 1".into());
        }
        if self.max_count == 0 {
            return Err("--max-count must be at least 1".into());
        }
        if self.max_term < 2 {
            return Err("--max-term must be at least 2 (term 1 is the initial one)".into());
        }
        if self.timing == Timing::Timed && self.horizon == 0 {
            return Err("--horizon must be at least 1".into());
        }
        Ok(())
    }
}
