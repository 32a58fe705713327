//! What a check explores: design, cluster size, timing, start, network, timeouts, the
//! settings under check, and one bound per fault kind.

use failover_core::{Design, Ticks};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

macro_rules! named_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "lowercase")]
        pub enum $name { $($(#[$vdoc])* $variant),+ }

        impl $name {
            /// Every value, in the order help texts list them.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The lowercase name used on command lines and in files.
            pub fn name(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::ALL.iter().copied().find(|v| v.name() == s).ok_or_else(|| {
                    let names: Vec<&str> = $name::ALL.iter().map(|v| v.name()).collect();
                    format!("unknown {} {s:?} (expected {})", stringify!($name).to_lowercase(), names.join(", "))
                })
            }
        }
    };
}

named_enum! {
    /// How time and delivery are modelled.
    Timing {
        /// Any interleaving: nodes tick independently and messages take any time. For safety.
        Async = "async",
        /// A global clock: every running node ticks together, and every message (and every
        /// due `nodedown`) is delivered or lost before the clock moves on. Time bounds become
        /// `always` properties.
        Timed = "timed",
    }
}

named_enum! {
    /// Where a run starts.
    Start {
        /// A settled cluster: term 1, `n0` orchestrator, every node up to date.
        Settled = "settled",
        /// Empty disks, as a real cluster starts: the nodes elect the first orchestrator.
        Fresh = "fresh",
    }
}

named_enum! {
    /// What the network may do with messages in flight (besides the budgeted faults).
    NetworkMode {
        /// One FIFO queue per directed link, as one TCP connection gives; a copy of a
        /// message already queued on the link is merged into it (a reduction: delivering a
        /// copy again is checked separately with `--duplicates` and `outbox`).
        Fifo = "fifo",
        /// Any message in flight may arrive next: what a transport that reads an old and a
        /// new connection of the same peer at once gives (reordering across a reconnect);
        /// copies merged as in `fifo`.
        Unordered = "unordered",
        /// As the transport's outbox: FIFO per link, every copy queued, nothing merged.
        Outbox = "outbox",
    }
}

named_enum! {
    /// How heartbeats reach a node.
    #[derive(Default)]
    Heartbeats {
        #[default]
        /// Right before each tick a node reads the current heartbeat of every peer it
        /// hears (`heard`, a choice of the search): any delay or loss of a heartbeat is a
        /// choice at the tick, and none is ever in flight. The reduction the checks use.
        Read = "read",
        /// Heartbeats are messages like any other, in flight until delivered, lost or
        /// duplicated, and a tick counts the peers whose heartbeat arrived since the last
        /// one. What a recorded run of the real node shows (`async` only).
        Messages = "messages",
    }
}

named_enum! {
    /// What becomes of the `nodedown`s that faults raise (a shutdown, a pause, a cut).
    #[derive(Default)]
    Nodedowns {
        #[default]
        /// Each waits for its receiver like a message and arrives at any later step: late,
        /// in `async`; when its net-tick is due, in `timed`. The full model.
        Queued = "queued",
        /// None is kept, because the core must ignore them: every state checks that a
        /// `nodedown` of any peer would change nothing at any node that could take one
        /// (the premise property), so delivering one only takes it off its queue. A
        /// reduction for a design whose core ignores `nodedown` (`fenced`, the default
        /// there); `specs/properties.md` argues it.
        Inert = "inert",
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
    /// Restarts of a stopped node from its disk.
    pub restarts: u8,
    /// Losses of a stopped node's whole disk: it restarts blank and must rejoin.
    #[serde(default)]
    pub disk_losses: u8,
    /// Pauses (a stopped VM or a long GC); each may later resume with stale state.
    pub pauses: u8,
    /// Messages lost.
    pub losses: u8,
    /// Messages delivered twice.
    #[serde(default)]
    pub duplicates: u8,
    /// Reconnects that drop every message queued on one link (the transport drops what
    /// queued while a peer was unreachable).
    #[serde(default)]
    pub link_drops: u8,
    /// Ticks at which a node misses the heartbeat of a live, reachable peer (a late
    /// heartbeat, a stale timer firing first after a pause): false suspicion.
    pub late_heartbeats: u8,
    /// Symmetric partitions (each later healable).
    pub partitions: u8,
    /// One-way cuts (each later healable): a node that can send but not receive (deaf), or
    /// a single link that carries nothing in one direction.
    #[serde(default)]
    pub one_way_cuts: u8,
    /// Rebalances started by an administrator (each may be stopped).
    pub rebalances: u8,
    /// Failover-count resets by an administrator.
    pub quota_resets: u8,
    /// Settings changes by an administrator (auto-failover on/off, `canAbortRebalance`).
    #[serde(default)]
    pub settings_changes: u8,
}

impl Bounds {
    /// Faults that take a node away (its loss may be failed over).
    pub fn node_losses(&self) -> u8 {
        self.clean_shutdowns
            + self.unclean_shutdowns
            + self.pauses
            + self.partitions
            + self.one_way_cuts
            + self.late_heartbeats
    }
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
    /// Where runs start.
    pub start: Start,
    /// What the network may do with messages in flight.
    pub network: NetworkMode,
    /// Messages a directed link holds; one sent on a full link is dropped, as a full
    /// outbox drops it.
    pub link_capacity: u8,
    /// Fault bounds.
    pub bounds: Bounds,
    /// Highest term expanded: a state where a node knows a higher term is checked but not
    /// expanded (the report says whether any was reached).
    pub max_term: u32,
    /// Highest config revision expanded, likewise.
    pub max_revision: u32,
    /// Longest path explored; a run that reaches it is not exhaustive.
    pub max_depth: usize,
    /// Auto-failover timeout in ticks.
    pub timeout_ticks: Ticks,
    /// Master-liveness timeout in ticks (also the check-quorum window).
    pub master_ticks: Ticks,
    /// Missed heartbeats in a row that a node's detector still counts as up.
    #[serde(default)]
    pub tolerated_misses: Ticks,
    /// Failover quota.
    pub max_count: u32,
    /// `canAbortRebalance` at the start.
    pub can_abort_rebalance: bool,
    /// Steps of each rebalance (one is committed per tick).
    pub rebalance_steps: u32,
    /// Ticks from an unclean loss (or pause, or partition) to `nodedown` (`timed`).
    pub net_tick_ticks: u8,
    /// Slack of the time bounds: a lost node must be failed over within
    /// `timeout_ticks + slack_ticks`, a lost orchestrator replaced within
    /// `master_ticks + slack_ticks` (`timed`).
    pub slack_ticks: u8,
    /// Last tick of the global clock (`timed`).
    pub horizon: u8,
    /// `timed`: carry out the deliveries of a tick one by one, so that faults (a loss, a cut,
    /// a crash, a pause) can fall between them; the clock still waits until the network is
    /// quiet (bounded delivery).
    #[serde(default)]
    pub faults_in_flight: bool,
    /// How heartbeats reach a node.
    #[serde(default)]
    pub heartbeats: Heartbeats,
    /// What becomes of `nodedown`s.
    #[serde(default)]
    pub nodedowns: Nodedowns,
    /// A deliberately wrong driver that sends a step's messages before writing its state:
    /// the model must catch it. For demonstrating the check, never for real use.
    #[serde(default)]
    pub unsafe_send_before_persist: bool,
}

impl Setup {
    /// The default setup of `design` for `nodes` nodes and `timing`: the budgets that the
    /// README's comparison uses.
    pub fn new(design: Design, nodes: u16, timing: Timing) -> Self {
        let big = nodes >= 4;
        let bounds = match timing {
            // Measured to stay within a minute on two cores for 3 nodes; wider budgets are
            // checked by the tests (see README, "What is checked").
            Timing::Async => Bounds {
                unclean_shutdowns: 1,
                pauses: u8::from(!big),
                ..Bounds::default()
            },
            Timing::Timed => Bounds {
                unclean_shutdowns: 1,
                pauses: 1,
                losses: u8::from(!big),
                partitions: u8::from(!big),
                rebalances: 1,
                ..Bounds::default()
            },
        };
        // In async any silence may last any number of ticks, so a one-tick timeout loses
        // nothing for safety and keeps the counters small; timed needs the grace period.
        let timeout_ticks = match timing {
            Timing::Async => 1,
            Timing::Timed => 2,
        };
        let slack_ticks = 2;
        let horizon = (timeout_ticks as u8) + slack_ticks + 2;
        Setup {
            design,
            nodes,
            timing,
            start: Start::Settled,
            network: NetworkMode::Fifo,
            link_capacity: 2,
            bounds,
            max_term: match timing {
                Timing::Async => 3,
                // A node asks for a term only on a tick, at most once per tick: this bound
                // never cuts a timed run short.
                Timing::Timed => u32::from(horizon) * u32::from(nodes) + 2,
            },
            max_revision: 16,
            max_depth: 400,
            timeout_ticks,
            master_ticks: 1,
            tolerated_misses: 0,
            max_count: 1,
            can_abort_rebalance: false,
            rebalance_steps: 2,
            net_tick_ticks: 4,
            slack_ticks,
            horizon,
            faults_in_flight: false,
            heartbeats: Heartbeats::Read,
            // `fenced` ignores `nodedown` (only the registry of the other designs reads
            // it): the premise property checks that it does.
            nodedowns: match design {
                Design::Fenced => Nodedowns::Inert,
                _ => Nodedowns::Queued,
            },
            unsafe_send_before_persist: false,
        }
    }

    /// The time bound of the in-time failover properties, in ticks after the loss.
    pub fn failover_bound(&self) -> u8 {
        self.timeout_ticks as u8 + self.slack_ticks
    }

    /// The time bound for a lost orchestrator to be replaced, in ticks after the loss.
    pub fn office_bound(&self) -> u8 {
        self.master_ticks as u8 + self.slack_ticks
    }

    /// Checks the setup; the error names the offending value.
    pub fn validate(&self) -> Result<(), String> {
        let most = crate::state::MAX_NODES;
        if !(2..=most).contains(&usize::from(self.nodes)) {
            return Err(format!(
                "--nodes must be between 2 and {most}, got {}",
                self.nodes
            ));
        }
        if self.timeout_ticks == 0 || self.timeout_ticks > 20 {
            return Err("--timeout-ticks must be between 1 and 20".into());
        }
        if self.master_ticks == 0 || self.master_ticks > 20 {
            return Err("--master-ticks must be between 1 and 20".into());
        }
        if self.tolerated_misses > 5 {
            return Err("--tolerated-misses must be at most 5".into());
        }
        if self.max_count == 0 {
            return Err("--max-count must be at least 1".into());
        }
        if self.max_term < 2 {
            return Err("--max-term must be at least 2 (term 1 is the initial one)".into());
        }
        if self.max_revision < 2 {
            return Err("--max-revision must be at least 2".into());
        }
        if self.max_depth == 0 {
            return Err("--max-depth must be at least 1".into());
        }
        if self.link_capacity == 0 {
            return Err("--link-capacity must be at least 1".into());
        }
        if self.rebalance_steps == 0 {
            return Err("--rebalance-steps must be at least 1".into());
        }
        if self.timing == Timing::Timed && self.horizon == 0 {
            return Err("--horizon must be at least 1".into());
        }
        if self.heartbeats == Heartbeats::Messages && self.timing != Timing::Async {
            return Err("--heartbeats messages applies to --timing async only".into());
        }
        if self.faults_in_flight && self.timing != Timing::Timed {
            return Err("--faults-in-flight applies to --timing timed only".into());
        }
        if self.bounds.disk_losses > self.bounds.restarts {
            return Err("--disk-losses needs as many --restarts (a node comes back blank)".into());
        }
        Ok(())
    }
}
