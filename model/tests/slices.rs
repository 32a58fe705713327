//! The fenced design under the widened model, one slice per fault family. Every slice
//! asserts what it covers: exhaustive within its printed bounds, every property holding,
//! and the witnesses of the scenario it is about (a slice that never reaches its scenario
//! fails).

mod common;

use common::*;
use failover_core::Design;
use failover_model::profile::FaultKind;
use failover_model::properties::*;
use failover_model::{NetworkMode, Setup, Start, Status, Timing};

fn fenced(timing: Timing) -> Setup {
    setup(Design::Fenced, 3, timing)
}

#[test]
fn a_rebalance_blocks_failovers_only_while_its_runner_leads() {
    // Async: an unclean shutdown and a rebalance, canAbortRebalance off.
    let mut s = fenced(Timing::Async);
    s.bounds.pauses = 0;
    s.bounds.rebalances = 1;
    let report = run(&s);
    assert_passes(&report, 245_000);
    for name in [BLOCKED_BY_REBALANCE, DATA_MOVED] {
        assert_has(&report, name, Status::Witnessed);
    }
    assert_has(&report, NO_FAILOVER_DURING_REBALANCE, Status::Holds);
}

#[test]
fn a_failover_aborts_a_rebalance_when_allowed() {
    let mut s = fenced(Timing::Async);
    s.bounds.pauses = 0;
    s.bounds.rebalances = 1;
    s.can_abort_rebalance = true;
    let report = run(&s);
    assert_passes(&report, 235_000);
    assert_has(&report, REBALANCE_ABORTED, Status::Witnessed);
}

#[test]
fn a_settings_change_next_to_a_paused_orchestrator_in_every_async_interleaving() {
    // Issue 7's admin command next to a deposed orchestrator: the `ci` profile's run of a
    // pause with a settings change (async, max term 2, links hold 1; 1,669,604 states on
    // 2026-12-05 since the pre-vote floor, 1,556,682 after the stickiness fix, 2,788,762
    // before it, 17,207,900 before nodedowns were inert).
    let setup = ci_run(FaultKind::Pause, FaultKind::SettingsChange, Timing::Async);
    let report = common::run(&setup);
    assert_passes(&report, 1_500_000);
    assert_has(&report, NO_WORK_BY_DEPOSED, Status::Holds);
    assert_has(&report, NO_FAILOVER_WHILE_DISABLED, Status::Holds);
    assert_has(&report, DEPOSED_PROPOSED, Status::Witnessed);
}

#[test]
fn settings_changes_and_quota_resets_race_with_failovers() {
    let mut s = fenced(Timing::Async);
    s.bounds.pauses = 0;
    s.bounds.unclean_shutdowns = 2;
    s.bounds.settings_changes = 1;
    s.bounds.quota_resets = 1;
    let report = run(&s);
    assert_passes(&report, 420_000);
    assert_has(&report, NO_FAILOVER_WHILE_DISABLED, Status::Holds);
}

#[test]
fn a_deaf_orchestrator_is_replaced_in_time_and_links_do_not_bounce_the_role() {
    // Timed: a deaf node or a one-way link cut, and an unclean shutdown.
    let mut s = fenced(Timing::Timed);
    s.bounds.one_way_cuts = 1;
    s.bounds.partitions = 0;
    s.bounds.losses = 0;
    s.bounds.rebalances = 0;
    let report = run(&s);
    assert_passes(&report, 100_000);
    for name in [REPLACED_IN_TIME, STEPS_DOWN_IN_TIME, KEPT_WHILE_ABLE] {
        assert_has(&report, name, Status::Holds);
    }
    assert_has(&report, DEAF_REPLACED, Status::Witnessed);
}

#[test]
fn a_node_that_lost_its_disk_is_readmitted_without_breaking_a_promise() {
    // Async: an unclean shutdown, a restart, and the loss of the restarted node's disk.
    let mut s = fenced(Timing::Async);
    s.bounds.pauses = 0;
    s.bounds.restarts = 1;
    s.bounds.disk_losses = 1;
    s.max_term = 2;
    let report = run(&s);
    assert_passes(&report, 1_000_000);
    assert_has(&report, REJOINED, Status::Witnessed);
    assert_has(&report, ONE_ORCHESTRATOR_PER_TERM, Status::Holds);
}

#[test]
fn an_orchestrator_back_without_its_disk_is_replaced_in_time() {
    // Timed: the orchestrator crashes and comes back blank (it must rejoin). It has the
    // best priority, but cannot lead until readmitted: another node must take office.
    let mut s = fenced(Timing::Timed);
    s.bounds.pauses = 0;
    s.bounds.losses = 0;
    s.bounds.partitions = 0;
    s.bounds.rebalances = 0;
    s.bounds.restarts = 1;
    s.bounds.disk_losses = 1;
    s.horizon = 10;
    s.max_term = u32::from(s.horizon) * 3 + 2;
    let report = run(&s);
    assert_passes(&report, 550);
    assert_has(&report, REPLACED_IN_TIME, Status::Holds);
    assert_has(&report, REJOINED, Status::Witnessed);
}

#[test]
fn a_healed_cluster_always_regains_an_orchestrator() {
    // Timed, faults falling between deliveries: the orchestrator pauses (another takes
    // office), resumes stale, and a partition cuts the new one off. Once all is healed the
    // cluster must lead again in time: this found a stale orchestrator that kept its old
    // term, as everyone's master, for ever.
    let mut s = fenced(Timing::Timed);
    s.faults_in_flight = true;
    s.horizon = 10;
    s.max_term = u32::from(s.horizon) * 3 + 2;
    s.bounds.unclean_shutdowns = 0;
    s.bounds.losses = 0;
    s.bounds.rebalances = 0;
    let report = run(&s);
    assert_passes(&report, 240_000);
    for name in [REGAINED_IN_TIME, REPLACED_IN_TIME, KEPT_WHILE_ABLE] {
        assert_has(&report, name, Status::Holds);
    }
}

#[test]
fn reordering_duplicates_and_dropped_links_change_nothing() {
    let mut s = fenced(Timing::Async);
    s.bounds.pauses = 0;
    s.network = NetworkMode::Unordered;
    s.bounds.duplicates = 1;
    s.bounds.link_drops = 1;
    let report = run(&s);
    assert_passes(&report, 13_500);
}

#[test]
fn every_copy_in_the_outbox_changes_nothing() {
    // Retransmitted copies kept, as the transport's outbox does.
    let mut s = fenced(Timing::Async);
    s.bounds.pauses = 0;
    s.bounds.unclean_shutdowns = 2;
    s.network = NetworkMode::Outbox;
    let report = run(&s);
    assert_passes(&report, 1_800);
}

#[test]
fn a_cluster_starting_from_empty_disks_elects_and_fails_over() {
    let mut s = fenced(Timing::Async);
    s.start = Start::Fresh;
    s.bounds.pauses = 0;
    let report = run(&s);
    assert_passes(&report, 50_000);
}

#[test]
fn the_implementations_timeouts_reach_the_grace_ticks() {
    // Timed with the implementation's ratio: timeout 10 heartbeats, master timeout 5, one
    // missed heartbeat tolerated.
    let mut s = fenced(Timing::Timed);
    s.timeout_ticks = 10;
    s.master_ticks = 5;
    s.tolerated_misses = 1;
    s.horizon = 16;
    s.max_term = u32::from(s.horizon) * 3 + 2;
    s.bounds.losses = 0;
    s.bounds.partitions = 0;
    s.bounds.rebalances = 0;
    let report = run(&s);
    // Sixteen ticks hold one failover, not the second that the quota would block.
    assert_safe(&report, 49_000);
    assert_has(&report, ORCHESTRATOR_IN_TIME, Status::Holds);
    for name in [ORCHESTRATOR_FAILED_OVER, OTHER_FAILED_OVER] {
        assert_has(&report, name, Status::Witnessed);
    }
}

#[test]
fn a_tolerated_late_heartbeat_delays_no_failover() {
    // Timed, with the implementation's tolerance of one missed heartbeat: a live node's
    // late heartbeat while another node is down is no fault, so every deadline stays armed
    // (slack 1 tick); two late heartbeats in a row are a false suspicion as before.
    let mut s = fenced(Timing::Timed);
    s.timeout_ticks = 4;
    s.master_ticks = 2;
    s.tolerated_misses = 1;
    s.slack_ticks = 1;
    s.horizon = 9;
    s.max_term = u32::from(s.horizon) * 3 + 2;
    s.bounds.pauses = 0;
    s.bounds.losses = 0;
    s.bounds.partitions = 0;
    s.bounds.rebalances = 0;
    s.bounds.late_heartbeats = 2;
    let report = run(&s);
    assert_passes(&report, 4_000);
    for name in [ORCHESTRATOR_IN_TIME, OTHER_IN_TIME, KEPT_WHILE_ABLE] {
        assert_has(&report, name, Status::Holds);
    }
}

#[test]
fn five_nodes_a_cut_off_orchestrator_with_a_minority_moves_no_data() {
    // Timed, 5 nodes: a partition that may cut off two nodes (the orchestrator and a
    // follower), and a rebalance.
    let mut s = setup(Design::Fenced, 5, Timing::Timed);
    s.bounds.pauses = 0;
    s.bounds.partitions = 1;
    s.bounds.rebalances = 1;
    let report = run(&s);
    assert_passes(&report, 130_000);
    for name in [NO_WORK_BY_DEPOSED, STEPS_DOWN_IN_TIME] {
        assert_has(&report, name, Status::Holds);
    }
    for name in [DATA_MOVED, ORPHAN_ENDED] {
        assert_has(&report, name, Status::Witnessed);
    }
}

#[test]
fn late_heartbeats_fail_no_orchestrator_over() {
    // Timed, no pause: an unclean shutdown, a lost message and two late heartbeats (a
    // false suspicion lasting the whole timeout). A healthy node may be failed over (its
    // suspicion is real to the detector), but one follower's doubt never deposes an
    // orchestrator that the other nodes hear (pre-vote and stickiness).
    let mut s = fenced(Timing::Timed);
    s.bounds.pauses = 0;
    s.bounds.partitions = 0;
    s.bounds.rebalances = 0;
    s.bounds.late_heartbeats = 2;
    let report = run(&s);
    assert_passes(&report, 2_700);
    assert_has(&report, KEPT_WHILE_ABLE, Status::Holds);
    assert_has(&report, OTHER_FAILED_OVER, Status::Witnessed);
}

#[test]
fn a_longer_horizon_fits_a_second_fault_after_a_rebalance() {
    // Timed, horizon 10: a pause, an unclean shutdown and a rebalance that can complete
    // (and open a new quota period) before the second fault. This horizon found that the
    // observer armed a deadline where no majority was left, or while a resumed node was
    // still counted silent.
    let mut s = fenced(Timing::Timed);
    s.horizon = 10;
    s.max_term = u32::from(s.horizon) * 3 + 2;
    s.bounds.losses = 0;
    s.bounds.partitions = 0;
    let report = run(&s);
    assert_passes(&report, 74_000);
    for name in [ORCHESTRATOR_IN_TIME, OTHER_IN_TIME, NO_WORK_BY_DEPOSED] {
        assert_has(&report, name, Status::Holds);
    }
    assert_has(&report, DATA_MOVED, Status::Witnessed);
}
