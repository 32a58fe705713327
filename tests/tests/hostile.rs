//! An attacker on the network: floods of admin connections, idle and slow clients, reads
//! without a token, oversized bodies, and floods of replayed or unfinished peer handshakes.
//! None of it may stop a node, change its state, or get a healthy node failed over.

use bytes::Bytes;
use failover_core::Design;
use failover_impl::api_server::{HEADER_TIMEOUT, MAX_CONNECTIONS};
use failover_impl::auth::Key;
use failover_impl::cluster::{Fault, ProcessState};
use failover_impl::wire::{codec, context, seal, Envelope};
use failover_tests::cluster::{eventually, fast, TestCluster, MARGIN};
use futures_util::SinkExt;
use std::net::SocketAddr;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

fn open_descriptors(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

/// Whether the server closes `stream` within `limit` (reading whatever it sends first).
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_floods_cannot_keep_the_orchestrator_from_persisting() {
    let mut c = TestCluster::up("conn-flood", 3, Design::Fenced, fast()).await;
    let pid = c.status(1).await.pid;
    // No more descriptors than the node says it needs.
    let needed = failover_impl::node::descriptors_needed(2);
    let limited = Command::new("prlimit")
        .args([
            "--pid",
            &pid.to_string(),
            &format!("--nofile={needed}:{needed}"),
        ])
        .status()
        .expect("prlimit runs");
    assert!(limited.success());
    let mut flood = Vec::new();
    for port in [c.admin(1), c.cluster.member(1).unwrap().listen] {
        for _ in 0..1100 {
            if let Ok(stream) = TcpStream::connect(port).await {
                flood.push(stream);
            }
        }
    }
    assert!(flood.len() >= 2000, "the flood connected: {}", flood.len());
    let held = open_descriptors(pid);
    assert!(
        held < needed,
        "node 1 holds {held} descriptors under the flood (limit {needed})"
    );
    // The orchestrator must persist a failover now: node 3 dies.
    c.fault(3, Fault::Kill);
    c.wait_failover(3, &[2], c.timeout() + MARGIN).await;
    assert_eq!(c.cluster.state(1), ProcessState::Up, "node 1 still runs");
    drop(flood);
    eventually("node 1 answers again", MARGIN * 3, || async {
        c.cluster.client().status(c.admin(1)).await.is_ok()
    })
    .await;
    assert_eq!(c.failovers(1).await.len(), 1, "it committed the failover");
    let mut turned_away = 0.0;
    for reason in ["evicted", "socket_limit"] {
        let series = format!("failover_admin_refused_total{{reason=\"{reason}\"}}");
        turned_away += c.count(1, &series).await;
    }
    assert!(
        turned_away >= (1000 - MAX_CONNECTIONS) as f64,
        "admin connections turned away and counted: {turned_away}"
    );
    let log = std::fs::read_to_string(&c.cluster.member(1).unwrap().log).unwrap();
    assert!(
        log.contains("admin connection refused or closed"),
        "and logged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_connections_cannot_lock_an_operator_out() {
    let c = TestCluster::up("admin-busy", 3, Design::Fenced, fast()).await;
    // Every slot held by a client that keeps its connection busy with open requests.
    let mut busy = Vec::new();
    for _ in 0..MAX_CONNECTIONS {
        let mut stream = TcpStream::connect(c.admin(1)).await.unwrap();
        stream
            .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        busy.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let status = c.cluster.client().status(c.admin(1)).await;
    assert!(status.is_ok(), "the operator got in: {status:?}");
    drop(busy);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_slow_admin_clients_are_cut_off() {
    let c = TestCluster::up("admin-idle", 3, Design::Fenced, fast()).await;
    let limit = HEADER_TIMEOUT + Duration::from_secs(1);
    let mut idle = TcpStream::connect(c.admin(1)).await.unwrap();
    let mut slow = TcpStream::connect(c.admin(1)).await.unwrap();
    slow.write_all(b"GET /status HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut kept_alive = TcpStream::connect(c.admin(1)).await.unwrap();
    kept_alive
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    assert!(closed_within(&mut idle, limit).await, "idle connection");
    assert!(closed_within(&mut slow, limit).await, "headers never ended");
    assert!(
        closed_within(&mut kept_alive, limit).await,
        "idle after an answer"
    );
    assert!(started.elapsed() >= HEADER_TIMEOUT - Duration::from_millis(200));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_but_health_needs_a_token_and_refusals_are_json() {
    let c = TestCluster::up("admin-tokens", 3, Design::Fenced, fast()).await;
    let key = Key::load(&c.cluster.dir().join("secret")).unwrap();
    let http = reqwest::Client::new();
    let url = |path: &str| format!("http://{}{path}", c.admin(1));
    let health = http.get(url("/health")).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
    for path in [
        "/status",
        "/failovers",
        "/metrics",
        "/settings/autoFailover",
    ] {
        let bare = http.get(url(path)).send().await.unwrap();
        assert_eq!(bare.status().as_u16(), 401, "{path}");
        let body: serde_json::Value = bare.json().await.expect("a JSON error");
        assert!(body["error"].as_str().unwrap().contains("token"), "{body}");
        let read = http
            .get(url(path))
            .bearer_auth(key.read_token())
            .send()
            .await
            .unwrap();
        assert_eq!(read.status().as_u16(), 200, "{path} with the read token");
    }
    let write = http
        .post(url("/settings/autoFailover/resetCount"))
        .bearer_auth(key.read_token())
        .send()
        .await
        .unwrap();
    assert_eq!(write.status().as_u16(), 401, "the read token cannot write");
    let huge = http
        .post(url("/settings/autoFailover"))
        .bearer_auth(key.admin_token())
        .header("content-type", "application/json")
        .body(vec![b' '; 3 << 20])
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status().as_u16(), 413);
    let body: serde_json::Value = huge.json().await.expect("413 is JSON too");
    assert!(body["error"].is_string(), "{body}");
    let counted = c
        .metric(
            1,
            "failover_admin_requests_total{endpoint=\"/status\",code=\"401\"}",
        )
        .await;
    assert_eq!(counted, 1.0);
    let log = std::fs::read_to_string(&c.cluster.member(1).unwrap().log).unwrap();
    assert!(log.contains("admin request refused"), "refusals are logged");
}

/// Floods `target` with copies of `hello` and with connections that never speak, until
/// `stop` is set, counting the connections made in `made`.
async fn handshake_flood(
    target: SocketAddr,
    hello: Bytes,
    stop: Arc<AtomicBool>,
    made: Arc<AtomicUsize>,
) {
    let mut silent = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let Ok(stream) = TcpStream::connect(target).await else {
            continue;
        };
        if made.fetch_add(1, Ordering::Relaxed).is_multiple_of(2) {
            // Holds a handshake slot for as long as the node lets it.
            silent.push(stream);
            if silent.len() > 200 {
                silent.remove(0);
            }
        } else {
            let mut conn = Framed::new(stream, codec(1 << 16));
            let _ = conn.send(hello.clone()).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_replayed_and_silent_handshakes_gets_no_peer_failed_over() {
    let mut c = TestCluster::up("hello-flood", 3, Design::Fenced, fast()).await;
    let key = Key::load(&c.cluster.dir().join("secret")).unwrap();
    // A hello of node 3 to node 1, as an eavesdropper would have captured it: bound to
    // the challenge of the connection it was sent on.
    let captured = Bytes::from(seal(
        &key,
        &[context::HELLO, &[3u8; 32]],
        &Envelope::Hello {
            from: 3,
            to: 1,
            nonce: hex::encode([5u8; 32]),
        },
    ));
    let target = c.cluster.member(1).unwrap().listen;
    let stop = Arc::new(AtomicBool::new(false));
    let made = Arc::new(AtomicUsize::new(0));
    let floods: Vec<_> = (0..4)
        .map(|_| {
            let flood = handshake_flood(target, captured.clone(), stop.clone(), made.clone());
            tokio::spawn(flood)
        })
        .collect();
    // Node 3 restarts during the flood: it must reconnect through it. The flood goes on
    // until it made 1,000 connections and three failover timeouts passed, whichever is
    // later (a slow machine floods more slowly, not less).
    tokio::time::sleep(Duration::from_millis(300)).await;
    c.restart(3).await;
    let started = Instant::now();
    while made.load(Ordering::Relaxed) < 1000 || started.elapsed() < c.timeout() * 3 {
        c.assert_no_failover(3, &[1, 2], c.timeout()).await;
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the flood is too slow"
        );
    }
    stop.store(true, Ordering::Relaxed);
    for flood in floods {
        flood.await.unwrap();
    }
    let replayed = c
        .metric(1, "failover_frames_rejected_total{reason=\"bad_mac\"}")
        .await;
    assert!(replayed > 100.0, "replayed hellos refused: {replayed}");
    let s = c.status(1).await;
    assert!(s.is_orchestrator);
    assert_eq!(s.config().failed_over, Vec::<u16>::new());
}
