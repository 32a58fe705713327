//! Bad input gets a clear refusal and changes nothing: forged, replayed, malformed and
//! oversized frames, unknown node ids, bad configs, corrupt state files, bad API requests.

use bytes::Bytes;
use failover_core::{Design, Membership, Message, NodeId};
use failover_impl::auth::Key;
use failover_impl::cluster::{Fault, Timings};
use failover_impl::wire::{codec, context, open, seal, Envelope};
use failover_tests::cluster::{eventually, exe, fast, temp_dir, TestCluster, MARGIN};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_util::codec::{Framed, LengthDelimitedCodec};

type Conn = Framed<TcpStream, LengthDelimitedCodec>;

async fn connect(addr: SocketAddr) -> Conn {
    let stream = TcpStream::connect(addr).await.unwrap();
    // Large enough to send the oversized frame; the node's own limit is 1 MiB.
    Framed::new(stream, codec(64 << 20))
}

/// Whether the node closed the connection (after refusing what it got), reading past
/// anything it sent first (its challenge).
async fn closed(conn: &mut Conn) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    loop {
        match tokio::time::timeout_at(deadline, conn.next()).await {
            Ok(None) | Ok(Some(Err(_))) => return true,
            Ok(Some(Ok(_))) => continue,
            Err(_) => return false,
        }
    }
}

/// The listener's challenge nonce, read from a new connection.
async fn challenge(conn: &mut Conn, key: &Key) -> Vec<u8> {
    let frame = conn.next().await.expect("a challenge").unwrap();
    match open(key, &[context::CHALLENGE], &frame) {
        Ok(Envelope::Challenge { nonce }) => hex::decode(nonce).unwrap(),
        other => panic!("no valid challenge: {other:?}"),
    }
}

fn hello(key: &Key, from: u16, to: u16, nonce: [u8; 32], challenge: &[u8]) -> Bytes {
    let nonce = hex::encode(nonce);
    Bytes::from(seal(
        key,
        &[context::HELLO, challenge],
        &Envelope::Hello { from, to, nonce },
    ))
}

/// A handshake as node `from`: the hello's frame (to replay) and the session key.
async fn handshake(conn: &mut Conn, key: &Key, from: u16, to: u16) -> (Bytes, Key) {
    let theirs = challenge(conn, key).await;
    let nonce = failover_impl::auth::random_bytes::<32>();
    let hello = hello(key, from, to, nonce, &theirs);
    conn.send(hello.clone()).await.unwrap();
    let welcome = conn.next().await.expect("welcome").unwrap();
    let Ok(Envelope::Welcome { .. }) = open(key, &[context::WELCOME, &nonce], &welcome) else {
        panic!("no valid welcome");
    };
    let session = key.session(from, to, &nonce, &theirs);
    (hello, session)
}

fn data(session: &Key, seq: u64, msg: Message) -> Bytes {
    Bytes::from(seal(
        session,
        &[context::DATA],
        &Envelope::Data { seq, msg },
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_replayed_malformed_and_oversized_frames_are_refused() {
    // The sessions below speak as node 3, which is stopped first, so that its real
    // connection does not replace theirs; the long timeout keeps it from being failed over.
    let timings = Timings {
        timeout_ms: 20_000,
        net_tick_ms: 20_000,
        ..fast()
    };
    let mut c = TestCluster::up("frames", 3, Design::Fenced, timings).await;
    c.fault(3, Fault::Kill);
    let key = Key::load(&c.cluster.dir().join("secret")).unwrap();
    let target = c.cluster.member(1).unwrap().listen;
    let before = c.status(1).await;
    let rejected = |reason: &str| format!("failover_frames_rejected_total{{reason=\"{reason}\"}}");

    // A hello MAC'd with another secret.
    let mut conn = connect(target).await;
    let forged = Key::from_bytes(b"not the cluster secret");
    let theirs = challenge(&mut conn, &key).await;
    conn.send(hello(&forged, 2, 1, [1; 32], &theirs))
        .await
        .unwrap();
    assert!(
        closed(&mut conn).await,
        "forged hello closes the connection"
    );

    // A node id outside the cluster, with the right secret.
    let mut conn = connect(target).await;
    let theirs = challenge(&mut conn, &key).await;
    conn.send(hello(&key, 9, 1, [1; 32], &theirs))
        .await
        .unwrap();
    assert!(closed(&mut conn).await);

    // A real session: a heartbeat is taken, the same frame again is a replay.
    let mut conn = connect(target).await;
    let (recorded_hello, session) = handshake(&mut conn, &key, 3, 1).await;
    let heartbeat = Message::Heartbeat {
        orchestrator: false,
        office: Default::default(),
        can_lead: true,
        accepted_term: 0,
        revision: before.config().revision,
    };
    let recorded = data(&session, 0, heartbeat);
    conn.send(recorded.clone()).await.unwrap();
    conn.send(recorded.clone()).await.unwrap();
    assert!(closed(&mut conn).await, "replay closes the connection");

    // The recorded hello on a new connection: bound to the old challenge, it fails the MAC.
    let mut conn = connect(target).await;
    let _ = challenge(&mut conn, &key).await;
    conn.send(recorded_hello).await.unwrap();
    assert!(
        closed(&mut conn).await,
        "a replayed hello closes the connection"
    );

    // A commit that fails node 3 over, MAC'd with the wrong key inside a real session.
    let mut conn = connect(target).await;
    let _ = handshake(&mut conn, &key, 3, 1).await;
    let mut fake = failover_core::ClusterConfig::initial(
        [NodeId(1), NodeId(2), NodeId(3)],
        Default::default(),
    );
    fake.revision = 99;
    fake.membership.insert(NodeId(3), Membership::FailedOver);
    let commit = Message::Commit {
        term: 99,
        config: fake.into(),
    };
    conn.send(data(&forged, 0, commit)).await.unwrap();
    assert!(closed(&mut conn).await);

    // Authentic but malformed: the right MAC over a body that is not an envelope.
    let mut conn = connect(target).await;
    let (_, session) = handshake(&mut conn, &key, 3, 1).await;
    let body = b"{\"Data\":{\"seq\":0,\"msg\":\"nonsense\"}}";
    let mut frame = session.sign(&[context::DATA, body]).to_vec();
    frame.extend_from_slice(body);
    conn.send(Bytes::from(frame)).await.unwrap();
    assert!(closed(&mut conn).await);

    // Oversized: a frame past the limit is refused before it is read.
    let mut conn = connect(target).await;
    conn.send(Bytes::from(vec![b'x'; 2 << 20])).await.ok();
    assert!(closed(&mut conn).await);

    for (reason, count) in [
        ("bad_mac", 3.0),
        ("unknown_peer", 1.0),
        ("replayed", 1.0),
        ("malformed", 1.0),
        ("oversized", 1.0),
    ] {
        assert_eq!(c.metric(1, &rejected(reason)).await, count, "{reason}");
    }
    // Nothing was acted on: same term and revision, nobody failed over, still orchestrator.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = c.status(1).await;
    assert_eq!(
        (after.term, after.config().revision),
        (before.term, before.config().revision)
    );
    assert!(after.config().failed_over.is_empty());
    assert!(after.is_orchestrator);
}

#[test]
fn bad_configs_are_refused_with_the_field_named() {
    let dir = temp_dir("bad-config");
    std::fs::create_dir_all(&dir).unwrap();
    let good = format!(
        "id = 1\nlisten = \"127.0.0.1:1\"\nadmin = \"127.0.0.1:2\"\ndata_dir = \"{d}/data\"\nsecret_file = \"{d}/secret\"\nheartbeat_ms = 100\nfailover_timeout_ms = 1000\nnet_tick_timeout_ms = 4000\n\n[[peers]]\nid = 2\naddress = \"127.0.0.1:3\"\n",
        d = dir.display()
    );
    let cases = [
        (good.replace("heartbeat_ms = 100\n", ""), "heartbeat_ms", 2),
        (
            good.replace("failover_timeout_ms = 1000", "failover_timeout_ms = 10"),
            "failover_timeout_ms",
            2,
        ),
        (
            good.replace("id = 1\n", "id = 1\nflavour = 3\n"),
            "flavour",
            2,
        ),
        (good.replace("id = 2", "id = 1"), "peers[0].id", 2),
        (
            good.replace("\"127.0.0.1:3\"", "\"localhost\""),
            "address",
            2,
        ),
        (good.clone(), "secret", 1), // the secret file does not exist
    ];
    for (text, named, code) in cases {
        let path = dir.join("node.toml");
        std::fs::write(&path, text).unwrap();
        let out = Command::new(exe())
            .args(["node", "--config"])
            .arg(&path)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{stderr}");
        assert!(stderr.contains(named), "{stderr:?} should name {named}");
    }
    let out = Command::new(exe())
        .args(["node", "--config", "/no/such/file.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/such/file.toml"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_state_file_stops_the_node_and_is_kept() {
    let mut c = TestCluster::up("corrupt-state", 3, Design::Fenced, fast()).await;
    c.cluster.stop_all().unwrap();
    let member = c.cluster.member(2).unwrap().clone();
    let state = member.config.parent().unwrap().join("data/state.json");
    let bytes = std::fs::read(&state).unwrap();
    let truncated = &bytes[..bytes.len() - 3];
    std::fs::write(&state, truncated).unwrap();
    let out = Command::new(exe())
        .args(["node", "--config"])
        .arg(&member.config)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("checksum") && stderr.contains("refusing"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(&state).unwrap(),
        truncated,
        "the file is left as it was"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_api_requests_get_json_errors_and_change_nothing() {
    let c = TestCluster::up("api", 3, Design::Fenced, fast()).await;
    let token = std::fs::read_to_string(c.cluster.dir().join("admin.token")).unwrap();
    let http = reqwest::Client::new();
    let url = |id: u16, path: &str| format!("http://{}{path}", c.admin(id));
    let before = c.status(1).await;
    // (node, path, token, body, expected code, words the error must contain)
    type Case<'a> = (u16, &'a str, Option<&'a str>, &'a str, u16, &'a str);
    let cases: Vec<Case> = vec![
        (
            1,
            "/settings/autoFailover",
            None,
            "{\"enabled\":false}",
            401,
            "missing admin token",
        ),
        (
            1,
            "/settings/autoFailover",
            Some("wrong"),
            "{\"enabled\":false}",
            401,
            "bad admin token",
        ),
        (
            1,
            "/settings/autoFailover",
            Some(&token),
            "{\"enabled\":",
            400,
            "bad request body",
        ),
        (
            1,
            "/settings/autoFailover",
            Some(&token),
            "{\"enable\":false}",
            400,
            "enable",
        ),
        (
            1,
            "/settings/autoFailover",
            Some(&token),
            "{\"timeoutMs\":\"soon\"}",
            400,
            "timeoutMs",
        ),
        (
            1,
            "/settings/autoFailover",
            Some(&token),
            "{\"timeoutMs\":1}",
            422,
            "at least one heartbeat",
        ),
        (
            1,
            "/settings/autoFailover",
            Some(&token),
            "{\"maxCount\":0}",
            422,
            "max count",
        ),
        (
            2,
            "/settings/autoFailover",
            Some(&token),
            "{\"enabled\":false}",
            409,
            "not the orchestrator",
        ),
        (
            1,
            "/controller/rebalance",
            Some(&token),
            "{\"action\":\"start\"}",
            422,
            "durationMs",
        ),
        (
            1,
            "/controller/rebalance",
            Some(&token),
            "{\"action\":\"pause\"}",
            400,
            "pause",
        ),
        (
            1,
            "/controller/rebalance",
            Some(&token),
            "{\"action\":\"stop\"}",
            422,
            "no rebalance",
        ),
        (1, "/nowhere", Some(&token), "{}", 404, "no such endpoint"),
    ];
    for (node, path, token, body, code, says) in cases {
        let mut request = http.post(url(node, path)).body(body.to_string());
        if let Some(token) = token {
            request = request.bearer_auth(token.trim());
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), code, "{path} {body}");
        let error: serde_json::Value = response.json().await.expect("a JSON error");
        let message = error["error"].as_str().unwrap_or_default();
        assert!(
            message.contains(says),
            "{path} {body}: {message:?} should say {says:?}"
        );
        if code == 409 {
            assert_eq!(error["orchestrator"], json!(1));
        }
    }
    let wrong_method = http.delete(url(1, "/status")).send().await.unwrap();
    assert_eq!(wrong_method.status().as_u16(), 405);
    let after = c.status(1).await;
    assert_eq!(
        after.config().revision,
        before.config().revision,
        "refused requests changed nothing"
    );

    // A good request commits and reaches every node.
    let answer = c
        .cluster
        .client()
        .post(
            c.admin(1),
            "/settings/autoFailover",
            Some(json!({"timeoutMs": 800, "maxCount": 2})),
        )
        .await
        .unwrap();
    assert_eq!(answer.code, 200, "{:?}", answer.body);
    eventually("the new settings reach node 3", MARGIN, || async {
        let s: serde_json::Value = http
            .get(url(3, "/settings/autoFailover"))
            .bearer_auth(token.trim())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        s["timeoutMs"] == json!(800) && s["maxCount"] == json!(2)
    })
    .await;
    let metrics = c.cluster.client().metrics(c.admin(1)).await.unwrap();
    assert!(metrics.contains("failover_term "), "{metrics}");
    assert!(metrics.contains("failover_is_orchestrator 1"), "{metrics}");
}
