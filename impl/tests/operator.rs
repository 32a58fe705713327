//! What an operator sees: a status that shows only what is committed, clear warnings about
//! clusters that cannot fail over, and "why not" lines for failovers that do not happen.

mod common;

use common::{fast, TestCluster, MARGIN};
use failover_core::Design;
use failover_impl::cluster::Fault;

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
