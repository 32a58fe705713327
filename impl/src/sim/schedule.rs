//! Fault schedules drawn from a seed: what happens to which host when, in simulated time.
//! A schedule has a random phase (crashes and restarts from disk, disk losses, pauses,
//! symmetric and one-way partitions, held links, and admin commands) and a calm final
//! phase that checks liveness: every fault is healed, the quota is reset and auto-failover
//! switched on, then the orchestrator is killed and must be failed over in time.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::fmt;
use std::time::Duration;

/// A host, by node id (1-based, as the node configs name them).
pub type Host = u16;

/// Something the schedule does at one instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Kills the host's process: what it wrote but did not sync is lost.
    Crash(Host),
    /// Starts a crashed host again from its disk.
    Restart(Host),
    /// Starts a crashed host again with its disk wiped: it must rejoin.
    RestartBlank(Host),
    /// Stops the host (SIGSTOP): no tick, no input, its links held.
    Pause(Host),
    /// Lets a paused host go on.
    Resume(Host),
    /// Cuts `side` off from the other hosts, both ways.
    Partition(Vec<Host>),
    /// Heals every partition and one-way cut and releases every held link.
    Heal,
    /// `to` no longer hears `from` (one way).
    CutOneWay {
        /// The sender whose messages are dropped.
        from: Host,
        /// The host that no longer hears it.
        to: Host,
    },
    /// Holds everything between two hosts (delivered on release, late and at once).
    Hold(Host, Host),
    /// Releases what was held between two hosts.
    Release(Host, Host),
    /// An administrator's request, sent to whichever node is orchestrator.
    Admin(AdminRequest),
    /// Kills the orchestrator of the moment for good: liveness asks that it be failed
    /// over within the bound.
    KillOrchestrator,
}

/// An admin request through the HTTP API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdminRequest {
    /// Starts a rebalance that lasts this long.
    StartRebalance {
        /// Its length in milliseconds.
        ms: u64,
    },
    /// Stops the running rebalance.
    StopRebalance,
    /// Resets the failover count.
    ResetCount,
    /// Switches auto-failover on or off.
    SetEnabled(bool),
    /// Sets `canAbortRebalance`.
    SetCanAbortRebalance(bool),
}

/// One timed action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Simulated time since the start.
    pub at: Duration,
    /// What happens.
    pub action: Action,
}

/// A whole schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// The seed it was drawn from.
    pub seed: u64,
    /// Hosts in the cluster.
    pub nodes: u16,
    /// Simulated length of the run.
    pub duration: Duration,
    /// When the orchestrator is killed for the liveness check (the last fault).
    pub kill_at: Duration,
    /// The events, in time order.
    pub events: Vec<Event>,
}

/// Time from the final kill to the end of a run: the liveness bound and some slack.
pub const LIVENESS_WINDOW: Duration = Duration::from_secs(5);

impl Schedule {
    /// Draws a schedule for `nodes` hosts over `duration` (at least 20 s) from `seed`.
    pub fn draw(seed: u64, nodes: u16, duration: Duration) -> Schedule {
        let mut rng = StdRng::seed_from_u64(seed);
        let duration = duration.max(Duration::from_secs(20));
        let ms = |d: Duration| d.as_millis() as u64;
        // The random phase ends early enough for the calm phase: heal, settle, admin, kill.
        let random_end = ms(duration) - 15_000;
        let heal_at = random_end + 1_000;
        let admin_at = heal_at + 5_000;
        let kill_at = ms(duration) - ms(LIVENESS_WINDOW);
        let mut events: Vec<Event> = Vec::new();
        let mut push = |at: u64, action: Action| {
            events.push(Event {
                at: Duration::from_millis(at),
                action,
            })
        };
        let faults = rng.random_range(3..=8);
        // One fault of a host at a time, so that hosts come back in a known way; faults
        // of different hosts overlap freely.
        let mut busy_until = vec![0u64; usize::from(nodes) + 1];
        for _ in 0..faults {
            let at = rng.random_range(2_000..random_end - 1_000);
            let lasts = rng.random_range(300..5_000).min(random_end - at);
            let host: Host = rng.random_range(1..=nodes);
            let other = loop {
                let o = rng.random_range(1..=nodes);
                if o != host {
                    break o;
                }
            };
            let kind = rng.random_range(0..9);
            if kind <= 5 && busy_until[usize::from(host)] > at {
                continue;
            }
            match kind {
                0 => {
                    push(at, Action::Crash(host));
                    push(at + lasts, Action::Restart(host));
                }
                1 => {
                    push(at, Action::Crash(host));
                    push(at + lasts, Action::RestartBlank(host));
                }
                2 | 3 => {
                    push(at, Action::Pause(host));
                    push(at + lasts, Action::Resume(host));
                }
                4 => {
                    let mut side = vec![host];
                    if nodes >= 5 && rng.random_bool(0.5) {
                        side.push(other);
                    }
                    side.sort_unstable();
                    push(at, Action::Partition(side));
                    push(at + lasts, Action::Heal);
                }
                5 => {
                    push(
                        at,
                        Action::CutOneWay {
                            from: other,
                            to: host,
                        },
                    );
                    push(at + lasts, Action::Heal);
                }
                6 => {
                    push(at, Action::Hold(host, other));
                    push(at + lasts.min(1_500), Action::Release(host, other));
                }
                7 => {
                    let request = match rng.random_range(0..4) {
                        0 => AdminRequest::StartRebalance {
                            ms: rng.random_range(500..3_000),
                        },
                        1 => AdminRequest::StopRebalance,
                        2 => AdminRequest::ResetCount,
                        _ => AdminRequest::SetCanAbortRebalance(rng.random_bool(0.5)),
                    };
                    push(at, Action::Admin(request));
                }
                _ => {
                    push(at, Action::Admin(AdminRequest::SetEnabled(false)));
                    push(at + lasts, Action::Admin(AdminRequest::SetEnabled(true)));
                }
            }
            if kind <= 5 {
                busy_until[usize::from(host)] = at + lasts + 500;
            }
        }
        // The calm phase: every host back, every link whole, then quota and settings that
        // let a failover happen, then the orchestrator killed.
        push(heal_at, Action::Heal);
        for host in 1..=nodes {
            push(heal_at, Action::Resume(host));
            push(heal_at, Action::Restart(host));
        }
        push(admin_at, Action::Admin(AdminRequest::StopRebalance));
        push(
            admin_at + 500,
            Action::Admin(AdminRequest::SetEnabled(true)),
        );
        push(admin_at + 1_000, Action::Admin(AdminRequest::ResetCount));
        push(kill_at, Action::KillOrchestrator);
        events.sort_by_key(|e| e.at);
        Schedule {
            seed,
            nodes,
            duration,
            kill_at: Duration::from_millis(kill_at),
            events,
        }
    }

    /// Faults injected (admin requests and the final kill included).
    pub fn faults(&self) -> usize {
        self.events
            .iter()
            .filter(|e| {
                !matches!(
                    e.action,
                    Action::Restart(_)
                        | Action::RestartBlank(_)
                        | Action::Resume(_)
                        | Action::Heal
                        | Action::Release(..)
                )
            })
            .count()
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Crash(h) => write!(f, "crash n{h}"),
            Action::Restart(h) => write!(f, "restart n{h} from its disk"),
            Action::RestartBlank(h) => write!(f, "restart n{h} with its disk lost"),
            Action::Pause(h) => write!(f, "pause n{h}"),
            Action::Resume(h) => write!(f, "resume n{h}"),
            Action::Partition(side) => {
                let names: Vec<String> = side.iter().map(|h| format!("n{h}")).collect();
                write!(f, "partition cuts off {}", names.join(","))
            }
            Action::Heal => write!(f, "heal every cut and release every held link"),
            Action::CutOneWay { from, to } => {
                write!(f, "one-way cut: n{to} no longer hears n{from}")
            }
            Action::Hold(a, b) => write!(f, "hold the link n{a}-n{b}"),
            Action::Release(a, b) => write!(f, "release the link n{a}-n{b}"),
            Action::Admin(r) => write!(f, "admin: {r:?}"),
            Action::KillOrchestrator => write!(f, "kill the orchestrator for good"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_gives_one_schedule_and_another_seed_another() {
        let a = Schedule::draw(7, 5, Duration::from_secs(60));
        assert_eq!(a, Schedule::draw(7, 5, Duration::from_secs(60)));
        assert_ne!(a, Schedule::draw(8, 5, Duration::from_secs(60)));
        assert!(a.events.windows(2).all(|w| w[0].at <= w[1].at));
        assert_eq!(a.events.last().unwrap().action, Action::KillOrchestrator);
    }
}
