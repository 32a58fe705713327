//! Check profiles: named sets of runs that together cover fault kinds that one run cannot
//! hold at once. `ci` checks every pair of fault kinds in both timings where both kinds
//! exist: exhaustively within small printed bounds where the search fits the budget of a
//! CI job, by seeded random walks (reported as such) where it does not, and one five-node
//! run; `deep` searches every pair that `ci` walks, and larger combinations.

use crate::setup::{Bounds, NetworkMode, Setup, Timing};
use failover_core::Design;
use serde::Serialize;
use std::fmt;

/// A kind of fault or event the model can inject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// A clean shutdown: peers get `nodedown` at once.
    Crash,
    /// An unclean shutdown: `nodedown` only after the net-tick timeout (or late, in async).
    Unclean,
    /// A pause that may resume with stale memory.
    Pause,
    /// A restart from disk (brings an unclean shutdown with it if the run has none).
    Restart,
    /// The loss of a stopped node's disk (brings a shutdown and a restart with it).
    DiskLoss,
    /// A lost message.
    Loss,
    /// A message delivered twice, on a network that also reorders (`unordered`); async only:
    /// `timed` delivers in order, each message once.
    Duplicate,
    /// A heartbeat that arrives late (false suspicion).
    LateHeartbeat,
    /// A symmetric partition that may heal.
    Partition,
    /// A deaf node or a link cut in one direction, which may heal.
    OneWayCut,
    /// An administrator's rebalance.
    Rebalance,
    /// An administrator's reset of the failover count.
    QuotaReset,
    /// An administrator's settings change (auto-failover or `canAbortRebalance` switched).
    SettingsChange,
}

impl FaultKind {
    /// Every kind, in the order the profile lists them.
    pub const ALL: [FaultKind; 13] = [
        FaultKind::Crash,
        FaultKind::Unclean,
        FaultKind::Pause,
        FaultKind::Restart,
        FaultKind::DiskLoss,
        FaultKind::Loss,
        FaultKind::Duplicate,
        FaultKind::LateHeartbeat,
        FaultKind::Partition,
        FaultKind::OneWayCut,
        FaultKind::Rebalance,
        FaultKind::QuotaReset,
        FaultKind::SettingsChange,
    ];

    /// The short name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Crash => "crash",
            FaultKind::Unclean => "unclean",
            FaultKind::Pause => "pause",
            FaultKind::Restart => "restart",
            FaultKind::DiskLoss => "disk-loss",
            FaultKind::Loss => "loss",
            FaultKind::Duplicate => "duplicate",
            FaultKind::LateHeartbeat => "late-heartbeat",
            FaultKind::Partition => "partition",
            FaultKind::OneWayCut => "one-way-cut",
            FaultKind::Rebalance => "rebalance",
            FaultKind::QuotaReset => "quota-reset",
            FaultKind::SettingsChange => "settings",
        }
    }

    /// Whether the kind exists in `timing`.
    pub fn exists_in(self, timing: Timing) -> bool {
        !(self == FaultKind::Duplicate && timing == Timing::Timed)
    }

    /// The budget of this kind in `bounds` (a state's [`crate::state::Spent`] counts
    /// what was spent against it the same way).
    pub fn budget(self, bounds: &mut Bounds) -> &mut u8 {
        match self {
            FaultKind::Crash => &mut bounds.clean_shutdowns,
            FaultKind::Unclean => &mut bounds.unclean_shutdowns,
            FaultKind::Pause => &mut bounds.pauses,
            FaultKind::Restart => &mut bounds.restarts,
            FaultKind::DiskLoss => &mut bounds.disk_losses,
            FaultKind::Loss => &mut bounds.losses,
            FaultKind::Duplicate => &mut bounds.duplicates,
            FaultKind::LateHeartbeat => &mut bounds.late_heartbeats,
            FaultKind::Partition => &mut bounds.partitions,
            FaultKind::OneWayCut => &mut bounds.one_way_cuts,
            FaultKind::Rebalance => &mut bounds.rebalances,
            FaultKind::QuotaReset => &mut bounds.quota_resets,
            FaultKind::SettingsChange => &mut bounds.settings_changes,
        }
    }

    /// Adds one fault of this kind to `setup`, with what it needs to happen at all.
    pub fn add_to(self, setup: &mut Setup) {
        let b = &mut setup.bounds;
        // A restart or a disk loss needs a node down first; a disk loss, a restart after.
        if matches!(self, FaultKind::Restart | FaultKind::DiskLoss)
            && b.clean_shutdowns + b.unclean_shutdowns == 0
        {
            b.unclean_shutdowns = 1;
        }
        *self.budget(b) += 1;
        match self {
            FaultKind::DiskLoss => b.restarts = b.restarts.max(b.disk_losses),
            FaultKind::Duplicate => setup.network = NetworkMode::Unordered,
            _ => {}
        }
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A named set of runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// Every pair of fault kinds and one five-node run, small bounds: minutes on two cores.
    Ci,
    /// Every async pair that `ci` walks, searched exhaustively (a pause with a rebalance
    /// also with `canAbortRebalance` on), a restart at the bounds where a failed-over node
    /// tries to lead again, two five-node timed runs, every kind together for 3 nodes, and
    /// 4 nodes with an unclean shutdown, a pause, a restart and a rebalance.
    Deep,
}

impl Profile {
    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Ci => "ci",
            Profile::Deep => "deep",
        }
    }
}

/// Random walks instead of an exhaustive search, for a run whose state space does not fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct WalkPlan {
    /// The seed (repeat with `simulate --seed`).
    pub seed: u64,
    /// States to generate.
    pub states: usize,
    /// Longest walk.
    pub depth: usize,
}

/// One run of a profile.
#[derive(Clone, Debug, Serialize)]
pub struct ProfileRun {
    /// The fault kinds the run combines.
    pub kinds: Vec<FaultKind>,
    /// What it checks.
    pub setup: Setup,
    /// `None`: an exhaustive search; otherwise random walks (not exhaustive).
    pub walk: Option<WalkPlan>,
    /// What the setup changes beyond one fault of each kind and the profile's bounds.
    pub note: Option<&'static str>,
}

impl ProfileRun {
    /// The kinds joined by `+`, and what the run changes beyond them.
    pub fn label(&self) -> String {
        let kinds = if self.kinds.len() == FaultKind::ALL.len() {
            "every kind".to_string()
        } else {
            let names: Vec<&str> = self.kinds.iter().map(|k| k.name()).collect();
            names.join("+")
        };
        match self.note {
            Some(note) => format!("{kinds} ({note})"),
            None => kinds,
        }
    }
}

/// The last tick of the `timed` runs of the profiles.
pub const TIMED_HORIZON: u8 = 10;

/// A fenced setup with no fault at all: the base each run adds its kinds to.
fn quiet(nodes: u16, timing: Timing) -> Setup {
    let mut setup = Setup::new(Design::Fenced, nodes, timing);
    setup.bounds = Bounds::default();
    setup
}

/// A run of `kinds` (one fault of each) on `nodes` nodes in `timing`, with the bounds the
/// profiles give it: in `async` the term bound `max_term` and links that hold one message.
pub fn run_of(kinds: &[FaultKind], nodes: u16, timing: Timing, max_term: u32) -> ProfileRun {
    let mut setup = quiet(nodes, timing);
    for kind in kinds {
        kind.add_to(&mut setup);
    }
    match timing {
        Timing::Async => {
            setup.max_term = max_term;
            setup.link_capacity = 1;
        }
        // Faults fall between deliveries too; room for both faults to fall at different
        // ticks, each followed by its whole failover bound.
        Timing::Timed => {
            setup.faults_in_flight = true;
            setup.horizon = TIMED_HORIZON;
            setup.max_term = u32::from(setup.horizon) * u32::from(nodes) + 2;
        }
    }
    ProfileRun {
        kinds: kinds.to_vec(),
        setup,
        walk: None,
        note: None,
    }
}

/// The kinds after which three nodes in async meet again with different views (a node
/// comes back, or was never gone): the state space of such a kind with most others
/// outgrows the `ci` budget.
const RETURNING: [FaultKind; 6] = [
    FaultKind::Pause,
    FaultKind::Restart,
    FaultKind::DiskLoss,
    FaultKind::LateHeartbeat,
    FaultKind::Partition,
    FaultKind::OneWayCut,
];

/// Pairs with a returning kind whose async search fits the `ci` budget. Measured on two
/// cores: the first ten at most 2.3 M states and 18 s each (2026-11-28); the next five,
/// after the checker's allocations were cut (2026-12-04), 2.2 M to 7.9 M states and 7 to
/// 24 s each; the next six, on the model's own search (2026-12-04), 7.6 M to 9.7 M states
/// and 21 to 32 s each (all far fewer since 2026-12-05); the next seven once `nodedown`s
/// were inert (2026-12-05), 2.0 M to 3.6 M states and 10 to 27 s each; the last eight,
/// a quota reset or a settings change with a returning kind, after the stickiness fixes
/// (2026-12-05), 3.0 M to 7.5 M states and 13 to 30 s each.
const RETURNING_PAIRS_THAT_FIT: [(FaultKind, FaultKind); 36] = [
    (FaultKind::Crash, FaultKind::Pause),
    (FaultKind::Unclean, FaultKind::Pause),
    (FaultKind::Pause, FaultKind::Loss),
    (FaultKind::Pause, FaultKind::Duplicate),
    (FaultKind::Crash, FaultKind::Restart),
    (FaultKind::Unclean, FaultKind::Restart),
    (FaultKind::Restart, FaultKind::DiskLoss),
    (FaultKind::Crash, FaultKind::DiskLoss),
    (FaultKind::Unclean, FaultKind::DiskLoss),
    (FaultKind::Loss, FaultKind::LateHeartbeat),
    (FaultKind::Unclean, FaultKind::LateHeartbeat),
    (FaultKind::Restart, FaultKind::Loss),
    (FaultKind::DiskLoss, FaultKind::Loss),
    (FaultKind::Loss, FaultKind::OneWayCut),
    (FaultKind::Duplicate, FaultKind::LateHeartbeat),
    (FaultKind::Crash, FaultKind::LateHeartbeat),
    (FaultKind::Pause, FaultKind::QuotaReset),
    (FaultKind::Restart, FaultKind::Duplicate),
    (FaultKind::DiskLoss, FaultKind::Duplicate),
    (FaultKind::Duplicate, FaultKind::OneWayCut),
    (FaultKind::LateHeartbeat, FaultKind::QuotaReset),
    (FaultKind::Crash, FaultKind::Partition),
    (FaultKind::Crash, FaultKind::OneWayCut),
    (FaultKind::Unclean, FaultKind::Partition),
    (FaultKind::Unclean, FaultKind::OneWayCut),
    (FaultKind::Loss, FaultKind::Partition),
    (FaultKind::Duplicate, FaultKind::Partition),
    (FaultKind::Pause, FaultKind::SettingsChange),
    (FaultKind::Restart, FaultKind::QuotaReset),
    (FaultKind::DiskLoss, FaultKind::QuotaReset),
    (FaultKind::Partition, FaultKind::QuotaReset),
    (FaultKind::OneWayCut, FaultKind::QuotaReset),
    (FaultKind::Restart, FaultKind::SettingsChange),
    (FaultKind::DiskLoss, FaultKind::SettingsChange),
    (FaultKind::LateHeartbeat, FaultKind::SettingsChange),
    (FaultKind::OneWayCut, FaultKind::SettingsChange),
];

/// Whether the `ci` profile searches the async pair `(a, b)` (in `ALL` order)
/// exhaustively; the others are walked there and searched by `deep`. Measured with the
/// profile's bounds on two cores (2026-12-05, after the stickiness fix): of the 21 other
/// pairs, a partition with a settings change takes 66 s (13.8 M states), a pause with a
/// rebalance 79 s, and each of the rest 188 s or more; on the final core (the pre-vote
/// floor on disk) 44 s (9.9 M), 84 s, and 186 s to 699 s (`deep` searches all 21 to the
/// end).
pub fn async_pair_fits(a: FaultKind, b: FaultKind) -> bool {
    let returning = RETURNING.contains(&a) || RETURNING.contains(&b);
    !returning || RETURNING_PAIRS_THAT_FIT.contains(&(a, b))
}

/// The walks of a pair that does not fit: one seed, a fixed number of states.
pub const CI_WALK: WalkPlan = WalkPlan {
    seed: 1,
    states: 1_000_000,
    depth: 200,
};

/// The runs of `profile`.
pub fn runs(profile: Profile) -> Vec<ProfileRun> {
    match profile {
        Profile::Ci => {
            let mut runs = Vec::new();
            for timing in [Timing::Async, Timing::Timed] {
                for (i, a) in FaultKind::ALL.iter().enumerate() {
                    for b in &FaultKind::ALL[i + 1..] {
                        if a.exists_in(timing) && b.exists_in(timing) {
                            let mut run = run_of(&[*a, *b], 3, timing, 2);
                            if timing == Timing::Async && !async_pair_fits(*a, *b) {
                                run.walk = Some(CI_WALK);
                            }
                            runs.push(run);
                        }
                    }
                }
            }
            // Five nodes, where a majority can lose two: searched in async since the
            // model's own search (605,376 states in 3.4 s on two cores, 2026-12-05).
            runs.push(run_of(&[FaultKind::Unclean], 5, Timing::Async, 2));
            runs
        }
        Profile::Deep => {
            // Every async pair that `ci` walks, searched here.
            let mut runs: Vec<ProfileRun> = Vec::new();
            for (i, a) in FaultKind::ALL.iter().enumerate() {
                for b in &FaultKind::ALL[i + 1..] {
                    if !async_pair_fits(*a, *b) {
                        runs.push(run_of(&[*a, *b], 3, Timing::Async, 2));
                    }
                }
            }
            // The pair of the deposed orchestrator's late commit (issue 7) with
            // `canAbortRebalance` on as well.
            let mut abort = run_of(
                &[FaultKind::Pause, FaultKind::Rebalance],
                3,
                Timing::Async,
                2,
            );
            abort.setup.can_abort_rebalance = true;
            abort.note = Some("canAbortRebalance");
            runs.push(abort);
            // The bounds at which a failed-over node restarted from its old disk tries to
            // lead again (it needs the new orchestrator gone too, and a third term): the
            // seeded bug that removes both guards against it is caught there.
            let mut again = run_of(
                &[FaultKind::Unclean, FaultKind::Restart],
                3,
                Timing::Async,
                3,
            );
            again.setup.bounds.unclean_shutdowns = 2;
            again.setup.link_capacity = 2;
            again.note = Some("2 unclean shutdowns, max term 3, links hold 2");
            runs.push(again);
            // Five nodes right after a heal, where leader stickiness and pre-candidacies
            // decide whether a working orchestrator keeps its office (specs/counterexamples.md).
            let mut heal = run_of(
                &[FaultKind::Unclean, FaultKind::Pause, FaultKind::Partition],
                5,
                Timing::Timed,
                2,
            );
            heal.note = Some("5 nodes, timed");
            runs.push(heal);
            // Five nodes with a deaf node beside the partition and the pause, where a
            // pre-candidate back late with its grants once deposed the new orchestrator
            // (the pre-vote floor, specs/counterexamples.md).
            let mut late = run_of(
                &[FaultKind::Pause, FaultKind::Partition, FaultKind::OneWayCut],
                5,
                Timing::Timed,
                2,
            );
            late.note = Some("5 nodes, timed");
            runs.push(late);
            runs.push(run_of(&FaultKind::ALL, 3, Timing::Async, 2));
            runs.push(run_of(
                &[
                    FaultKind::Unclean,
                    FaultKind::Pause,
                    FaultKind::Restart,
                    FaultKind::Rebalance,
                ],
                4,
                Timing::Async,
                2,
            ));
            runs
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_holds_every_pair_in_async_and_every_timed_pair() {
        let runs = runs(Profile::Ci);
        let kinds = FaultKind::ALL.len();
        let timed_kinds = FaultKind::ALL
            .iter()
            .filter(|k| k.exists_in(Timing::Timed))
            .count();
        let pairs = |n: usize| n * (n - 1) / 2;
        let (three, five): (Vec<_>, Vec<_>) = runs.iter().partition(|r| r.setup.nodes == 3);
        assert_eq!(three.len(), pairs(kinds) + pairs(timed_kinds));
        assert_eq!(five.len(), 1, "one five-node run");
        assert!(five[0].walk.is_none(), "the five-node run is searched");
        for run in &three {
            assert_eq!(run.kinds.len(), 2);
            run.setup.validate().expect("a profile run is valid");
            assert_eq!(
                run.walk.is_some(),
                run.setup.timing == Timing::Async && !async_pair_fits(run.kinds[0], run.kinds[1])
            );
        }
        for (a, b) in RETURNING_PAIRS_THAT_FIT {
            let order = |k| FaultKind::ALL.iter().position(|x| *x == k);
            assert!(order(a) < order(b), "{a}+{b} is listed in ALL order");
        }
    }

    #[test]
    fn deep_searches_every_async_pair_that_ci_walks() {
        let walked: Vec<Vec<FaultKind>> = runs(Profile::Ci)
            .into_iter()
            .filter(|r| r.walk.is_some())
            .map(|r| r.kinds)
            .collect();
        let deep = runs(Profile::Deep);
        assert!(deep.iter().all(|r| r.walk.is_none()), "deep walks nothing");
        for kinds in &walked {
            assert!(
                deep.iter().any(|r| &r.kinds == kinds && r.setup.nodes == 3),
                "{kinds:?} is searched by deep"
            );
        }
        let pairs = deep.iter().filter(|r| r.kinds.len() == 2).count();
        assert_eq!(
            pairs,
            walked.len() + 2,
            "and the pause with a rebalance, and the restart at max term 3"
        );
    }

    #[test]
    fn deep_checks_the_deposed_orchestrators_pair_with_both_rebalance_settings() {
        let pair = [FaultKind::Pause, FaultKind::Rebalance];
        let labels: Vec<String> = runs(Profile::Deep)
            .iter()
            .filter(|r| r.kinds == pair && r.setup.timing == Timing::Async)
            .map(ProfileRun::label)
            .collect();
        assert_eq!(
            labels,
            ["pause+rebalance", "pause+rebalance (canAbortRebalance)"]
        );
    }

    #[test]
    fn a_disk_loss_brings_the_stop_and_restart_it_needs() {
        let mut setup = quiet(3, Timing::Async);
        FaultKind::DiskLoss.add_to(&mut setup);
        assert_eq!(setup.bounds.unclean_shutdowns, 1);
        assert_eq!(setup.bounds.restarts, 1);
        setup.validate().expect("valid");
    }
}
