//! What an operator sees: a status that shows only what is committed, clear warnings about
//! clusters that cannot fail over, and "why not" lines for failovers that do not happen.

use failover_core::Design;
use failover_impl::cluster::Fault;
use failover_tests::cluster::{fast, TestCluster, MARGIN};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_two_node_cluster_warns_and_shows_no_failover_it_could_not_commit() {
    let mut c = TestCluster::up("two-nodes", 2, Design::Fenced, fast()).await;
    c.fault(2, Fault::Kill);
    tokio::time::sleep(c.timeout() + MARGIN).await;
    let s = c.status(1).await;
    assert_eq!(s.config().failover_count, 0, "{s:?}");
    assert!(s.config().failed_over.is_empty(), "{s:?}");
    assert!(c.failovers(1).await.is_empty(), "no committed failover");
    assert_eq!(c.metric(1, "failover_failover_count").await, 0.0);
    assert!(!s.is_orchestrator, "it gave up office");
    assert_eq!(s.orchestrator, None, "and knows of no node acting: {s:?}");
    let log = std::fs::read_to_string(&c.cluster.member(1).unwrap().log).unwrap();
    assert!(
        log.contains("can never fail a node over"),
        "the node warned at start"
    );
    assert!(
        log.contains("no longer hears a majority"),
        "the node said why it does not act"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_that_cannot_commit_shows_as_pending_with_its_age() {
    let mut c = TestCluster::up("pending", 3, Design::Fenced, fast()).await;
    let before = c.status(1).await;
    c.fault(2, Fault::Pause);
    c.fault(3, Fault::Pause);
    // Proposed while node 1 still leads, but nobody can accept it.
    let change = serde_json::json!({"maxCount": 3});
    let answer = c.post(1, "/settings/autoFailover", change).await;
    assert_ne!(answer.code, 200, "{:?}", answer.body);
    tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
    let s = c.status(1).await;
    assert_eq!(
        s.config(),
        before.config(),
        "the committed config is unchanged"
    );
    let pending = s.pending.as_ref().expect("the change shows as pending");
    assert!(pending.revision > before.config().revision, "{pending:?}");
    assert!(pending.failing_over.is_empty(), "{pending:?}");
    assert!(
        pending.age_ms >= 1000,
        "its age counts from the proposal: {pending:?}"
    );
    assert_eq!(c.metric(1, "failover_failover_count").await, 0.0);
    assert!(c.metric(1, "failover_pending_proposal_age_seconds").await >= 1.0);
    let settings: serde_json::Value = c
        .cluster
        .client()
        .get(c.admin(1), "/settings/autoFailover")
        .await
        .unwrap();
    assert_eq!(settings["maxCount"], 1, "{settings}");
    c.fault(2, Fault::Resume);
    c.fault(3, Fault::Resume);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_node_shows_the_committed_config_it_knew() {
    let mut c = TestCluster::up("restart-status", 3, Design::Fenced, fast()).await;
    c.fault(3, Fault::Kill);
    c.wait_failover(3, &[1, 2], c.timeout() + MARGIN).await;
    c.restart(2).await;
    let s = c.status(2).await;
    assert_eq!(s.config().failed_over, vec![3], "{s:?}");
    assert_eq!(s.pending, None, "{s:?}");
    assert_eq!(c.failovers(2).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_logs_and_metrics_say_what_happened_and_why_not() {
    let timings = failover_impl::cluster::Timings {
        max_count: 2,
        ..fast()
    };
    let mut c = TestCluster::up("why-not", 5, Design::Fenced, timings).await;
    let log = |c: &TestCluster, id: u16| {
        std::fs::read_to_string(&c.cluster.member(id).unwrap().log).unwrap()
    };
    c.fault(4, Fault::Kill);
    c.fault(5, Fault::Kill);
    failover_tests::cluster::eventually(
        "node 1 says why it fails nobody over",
        c.timeout() + MARGIN,
        || async { log(&c, 1).contains("other nodes are down too") },
    )
    .await;
    assert!(c.failovers(1).await.is_empty());
    // Node 5 comes back: node 4 alone is down and is failed over.
    c.restart(5).await;
    c.wait_failover(4, &[1, 2, 3, 5], c.timeout() * 2 + MARGIN)
        .await;
    failover_tests::cluster::eventually("node 2 logs the failover it learned", MARGIN, || async {
        log(&c, 2).contains("learned a committed failover")
    })
    .await;
    assert_eq!(
        c.metric(1, "failover_detection_to_commit_seconds_count")
            .await,
        1.0
    );
    assert_eq!(
        c.metric(2, "failover_silence_to_learned_seconds_count")
            .await,
        1.0
    );
    assert!(
        log(&c, 1).contains("health changed"),
        "health changes at info"
    );
    // The orchestrator dies: the others log who took over.
    c.fault(1, Fault::Kill);
    c.wait_failover(1, &[2, 3, 5], c.timeout() * 2 + MARGIN)
        .await;
    let changes: Vec<String> = log(&c, 3)
        .lines()
        .filter(|l| l.contains("orchestrator changed"))
        .map(str::to_string)
        .collect();
    assert!(
        changes.last().is_some_and(|l| l.contains("Some(2)")),
        "node 3 logged node 2 taking over: {changes:?}"
    );
}
