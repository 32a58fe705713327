//! Real node processes on loopback TCP: orchestrator and other-node failover under SIGKILL
//! and SIGSTOP, fencing of a resumed orchestrator, rebalance and quota rules, restarts, and
//! the legacy design's wait for the net-tick timeout.

use failover_core::{Design, Membership};
use failover_impl::cluster::{Fault, Timings};
use failover_tests::cluster::{eventually, fast, TestCluster, MARGIN};
use serde_json::json;
use std::time::Duration;

async fn orchestrator_fails_over_once(name: &str, fault: Fault) {
    let mut c = TestCluster::up(name, 3, Design::Fenced, fast()).await;
    c.fault(1, fault);
    c.wait_failover(1, &[2, 3], c.timeout() + MARGIN).await;
    let on_2 = c.failovers(2).await;
    let on_3 = c.failovers(3).await;
    assert_eq!(on_2.len(), 1, "{on_2:?}");
    assert_eq!(on_2[0].issuer, 2, "the next master by priority commits it");
    assert!(on_2[0].committed_here);
    let key = |v: &Vec<failover_impl::driver::FailoverView>| {
        v.iter()
            .map(|r| (r.node, r.term, r.revision, r.issuer))
            .collect::<Vec<_>>()
    };
    assert_eq!(key(&on_2), key(&on_3), "the survivors agree on the history");
    let status = c.status(3).await;
    assert_eq!(status.orchestrator, Some(2));
    assert_eq!(status.config().failover_count, 1);
    // Nothing more happens: still one failover a while later.
    tokio::time::sleep(c.timeout()).await;
    assert_eq!(c.failovers(2).await.len(), 1);
    if fault == Fault::Pause {
        c.fault(1, Fault::Resume);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_orchestrator_is_failed_over_once_by_its_successor() {
    orchestrator_fails_over_once("kill-orchestrator", Fault::Kill).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_orchestrator_is_failed_over_once_by_its_successor() {
    orchestrator_fails_over_once("pause-orchestrator", Fault::Pause).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resumed_orchestrator_is_fenced_and_steps_down() {
    let mut c = TestCluster::up("fenced-resume", 3, Design::Fenced, fast()).await;
    let old_term = c.status(1).await.term;
    c.fault(1, Fault::Pause);
    c.wait_failover(1, &[2, 3], c.timeout() + MARGIN).await;
    let after = c.status(2).await;
    assert!(after.term > old_term);
    c.fault(1, Fault::Resume);
    eventually(
        "the old orchestrator learns the newer term and steps down",
        MARGIN * 2,
        || async {
            let s = c.status(1).await;
            s.term >= after.term
                && !s.is_orchestrator
                && s.config().membership == Membership::FailedOver
        },
    )
    .await;
    // It committed nothing, before or after its pause.
    assert_eq!(c.metric(1, "failover_failovers_committed_total").await, 0.0);
    assert!(c.failovers(1).await.iter().all(|r| !r.committed_here));
    // Nothing it sent was acted on: the survivors' config and term did not move.
    tokio::time::sleep(c.timeout()).await;
    for id in [2, 3] {
        let s = c.status(id).await;
        assert_eq!(
            (s.term, s.config().revision),
            (after.term, after.config().revision),
            "node {id}"
        );
        assert_eq!(s.orchestrator, Some(2));
    }
    assert_eq!(c.failovers(2).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_node_is_failed_over_once_by_the_orchestrator() {
    let mut c = TestCluster::up("kill-other", 3, Design::Fenced, fast()).await;
    c.fault(3, Fault::Kill);
    c.wait_failover(3, &[1, 2], c.timeout() + MARGIN).await;
    let records = c.failovers(1).await;
    assert_eq!(records.len(), 1);
    assert_eq!((records[0].node, records[0].issuer), (3, 1));
    let s = c.status(1).await;
    assert_eq!(s.orchestrator, Some(1), "the orchestrator did not change");
    tokio::time::sleep(c.timeout()).await;
    assert_eq!(c.failovers(2).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_failover_while_a_rebalance_runs() {
    let mut c = TestCluster::up("rebalance", 3, Design::Fenced, fast()).await;
    let answer = c
        .cluster
        .client()
        .post(
            c.admin(1),
            "/settings/autoFailover",
            Some(json!({"canAbortRebalance": false})),
        )
        .await
        .unwrap();
    assert_eq!(answer.code, 200, "{:?}", answer.body);
    let rebalance = Duration::from_millis(2000);
    let answer = c
        .cluster
        .client()
        .post(
            c.admin(1),
            "/controller/rebalance",
            Some(json!({"action": "start", "durationMs": rebalance.as_millis() as u64})),
        )
        .await
        .unwrap();
    assert_eq!(answer.code, 200, "{:?}", answer.body);
    let started = std::time::Instant::now();
    // Committed at a majority; node 2 may be the one that has not heard yet.
    eventually("node 2 learns of the rebalance", MARGIN, || async {
        c.status(2)
            .await
            .config()
            .rebalance
            .as_ref()
            .is_some_and(|r| r.runner == 1)
    })
    .await;
    c.fault(3, Fault::Kill);
    // Well past the timeout, but inside the rebalance: blocked.
    let blocked_for = rebalance.saturating_sub(started.elapsed() + Duration::from_millis(300));
    assert!(
        blocked_for > c.timeout() * 2,
        "the machine is too slow for this test"
    );
    c.assert_no_failover(3, &[1, 2], blocked_for).await;
    // When it ends, the failover follows.
    c.wait_failover(3, &[1, 2], rebalance + c.timeout() + MARGIN)
        .await;
    let s = c.status(1).await;
    assert_eq!(s.config().rebalance, None);
    assert!(
        s.config().map_version >= 15,
        "the rebalance moved data in committed steps"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failover_aborts_a_rebalance_when_allowed() {
    let mut c = TestCluster::up("abort", 3, Design::Fenced, fast()).await;
    assert!(
        c.status(1).await.config().can_abort_rebalance,
        "on by default"
    );
    let answer = c
        .cluster
        .client()
        .post(
            c.admin(1),
            "/controller/rebalance",
            Some(json!({"action": "start", "durationMs": 60_000})),
        )
        .await
        .unwrap();
    assert_eq!(answer.code, 200, "{:?}", answer.body);
    c.fault(3, Fault::Kill);
    c.wait_failover(3, &[1, 2], c.timeout() + MARGIN).await;
    let s = c.status(2).await;
    assert_eq!(
        s.config().rebalance,
        None,
        "the failover stopped the rebalance"
    );
    assert!(s.config().map_version > 0, "it had moved data before");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_blocks_a_second_failover_until_the_count_is_reset() {
    let mut c = TestCluster::up("quota", 5, Design::Fenced, fast()).await;
    c.fault(5, Fault::Kill);
    c.wait_failover(5, &[1, 2, 3, 4], c.timeout() + MARGIN)
        .await;
    c.fault(4, Fault::Kill);
    c.assert_no_failover(4, &[1, 2, 3], c.timeout() * 3).await;
    assert_eq!(c.status(1).await.config().failover_count, 1);
    let answer = c
        .cluster
        .client()
        .post(c.admin(1), "/settings/autoFailover/resetCount", None)
        .await
        .unwrap();
    assert_eq!(answer.code, 200, "{:?}", answer.body);
    c.wait_failover(4, &[1, 2, 3], c.timeout() + MARGIN).await;
    let s = c.status(2).await;
    assert_eq!(
        s.config().failover_count,
        1,
        "counted in the new quota period"
    );
    assert_eq!(s.config().failed_over, vec![5, 4]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_survives_restarts_and_a_failed_over_node_stays_out() {
    let mut c = TestCluster::up("restart", 3, Design::Fenced, fast()).await;
    c.fault(3, Fault::Kill);
    c.wait_failover(3, &[1, 2], c.timeout() + MARGIN).await;
    let before = c.status(1).await;
    for id in [1, 2, 3] {
        c.fault(id, Fault::Restart);
    }
    c.cluster
        .wait_settled(MARGIN * 4)
        .await
        .expect("the restarted cluster has an orchestrator again");
    eventually(
        "the failed-over node learns it is out",
        MARGIN * 2,
        || async { c.status(3).await.config().membership == Membership::FailedOver },
    )
    .await;
    for id in [1, 2, 3] {
        let s = c.status(id).await;
        assert_eq!(s.config().failed_over, vec![3], "node {id}");
        assert_eq!(
            s.config().failover_count,
            before.config().failover_count,
            "node {id}"
        );
        assert!(s.config().revision >= before.config().revision, "node {id}");
        assert!(
            !s.is_orchestrator || id != 3,
            "the failed-over node does not lead"
        );
        let three = s.peers.iter().find(|p| p.id == 3).map(|p| p.membership);
        assert!(
            id == 3 || three == Some(Membership::FailedOver),
            "node {id} sees 3 as {three:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_orchestrator_failover_waits_for_the_net_tick_timeout() {
    let timings = Timings {
        net_tick_ms: 2000, // five failover timeouts
        ..fast()
    };
    let net_tick = Duration::from_millis(timings.net_tick_ms);
    let mut c = TestCluster::up("legacy", 3, Design::Legacy, timings).await;
    c.fault(1, Fault::Pause);
    let took = c
        .wait_failover(1, &[2, 3], net_tick + c.timeout() + MARGIN * 2)
        .await;
    assert!(
        took >= net_tick,
        "legacy failed the orchestrator over after {took:?}, before the net tick"
    );
    c.fault(1, Fault::Resume);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poc_design_fails_a_killed_orchestrator_over() {
    // The origin's design runs on the same driver: the new master fails the old
    // orchestrator over (without a quorum; its hazards are the model's findings).
    let mut c = TestCluster::up("poc", 3, Design::Poc, fast()).await;
    c.fault(1, Fault::Kill);
    c.wait_failover(1, &[2, 3], c.timeout() + MARGIN).await;
    let records = c.failovers(3).await;
    assert_eq!((records[0].node, records[0].issuer), (1, 2));
    eventually("node 2 holds the singletons", MARGIN, || async {
        c.status(3).await.orchestrator == Some(2)
    })
    .await;
}
