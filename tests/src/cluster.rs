//! A local cluster of real `failover` node processes for the tests, stopped on drop, with
//! the faults to inject and the waits and checks the tests share.

use failover_core::Design;
use failover_impl::cluster::{Cluster, Fault, Spec, Timings};
use failover_impl::driver::{FailoverView, Status};
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Short timings: heartbeats of 40 ms, a 400 ms failover timeout.
pub fn fast() -> Timings {
    Timings {
        heartbeat_ms: 40,
        timeout_ms: 400,
        net_tick_ms: 2000,
        max_count: 1,
    }
}

/// Slack for a loaded two-core CI machine on top of the protocol's own bound.
pub const MARGIN: Duration = Duration::from_millis(1500);

pub struct TestCluster {
    pub cluster: Cluster,
    pub timings: Timings,
}

/// The `failover` binary of this build (built on first use: Cargo builds a package's
/// binaries only for that package's own tests).
pub fn exe() -> PathBuf {
    static EXE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    EXE.get_or_init(|| {
        // This test runs from TARGET/PROFILE/deps/; the binary goes to TARGET/PROFILE/.
        let test = std::env::current_exe().expect("the test's path");
        let profile_dir = test
            .parent()
            .and_then(|deps| deps.parent())
            .expect("TARGET/PROFILE/deps/TEST");
        let mut build = std::process::Command::new(env!("CARGO"));
        build
            .args([
                "build",
                "--quiet",
                "-p",
                "failover-impl",
                "--bin",
                "failover",
            ])
            .env("CARGO_TARGET_DIR", profile_dir.parent().expect("TARGET"));
        if profile_dir.ends_with("release") {
            build.arg("--release");
        }
        let status = build.status().expect("cargo runs");
        assert!(status.success(), "the failover binary builds");
        profile_dir.join("failover")
    })
    .clone()
}

/// A fresh directory for a test cluster. On tmpfs where there is one: right after a build
/// (as in CI) an fsync on the disk can wait seconds behind the build's dirty pages, and a
/// node that cannot persist rightly stops heartbeating until it can, which these timed
/// tests would read as a fault. Durability itself is not what they test.
pub fn temp_dir(name: &str) -> PathBuf {
    let shm = std::path::Path::new("/dev/shm");
    let base = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    let dir = base.join(format!("failover-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

impl TestCluster {
    /// Starts `nodes` nodes and waits until they agree on node 1 as orchestrator.
    pub async fn up(name: &str, nodes: u16, design: Design, timings: Timings) -> TestCluster {
        let spec = Spec {
            nodes,
            design,
            timings: timings.clone(),
            log: "info,failover::core=debug".into(),
            log_json: true,
            journals: true,
        };
        let mut cluster = Cluster::create(&temp_dir(name), &spec, &exe()).expect("cluster created");
        cluster.bootstrap_all().expect("nodes start");
        let orchestrator = match cluster.wait_settled(Duration::from_secs(20)).await {
            Ok(orchestrator) => orchestrator,
            Err(e) => {
                // No TestCluster exists yet to stop them on drop.
                let _ = cluster.stop_all();
                panic!("cluster did not settle: {e:#}");
            }
        };
        let cluster = TestCluster { cluster, timings };
        assert_eq!(
            orchestrator, 1,
            "the top-priority node becomes orchestrator"
        );
        // A few heartbeats more, so that every detector has fresh counts.
        tokio::time::sleep(Duration::from_millis(5 * cluster.timings.heartbeat_ms)).await;
        cluster
    }

    pub fn admin(&self, id: u16) -> SocketAddr {
        self.cluster.member(id).unwrap().admin
    }

    pub fn ids(&self) -> Vec<u16> {
        self.cluster.file.members.iter().map(|m| m.id).collect()
    }

    pub async fn status(&self, id: u16) -> Status {
        self.cluster
            .client()
            .status(self.admin(id))
            .await
            .expect("node answers")
    }

    pub async fn failovers(&self, id: u16) -> Vec<FailoverView> {
        self.cluster
            .client()
            .failovers(self.admin(id))
            .await
            .expect("node answers")
    }

    pub fn fault(&mut self, id: u16, fault: Fault) {
        self.cluster.fault(id, fault).expect("fault injected");
    }

    /// Restarts node `id` from its data directory and waits until it answers.
    pub async fn restart(&mut self, id: u16) {
        self.cluster
            .restart(id, Duration::from_secs(10))
            .await
            .expect("the restarted node answers");
    }

    /// `POST path` to node `id` with the admin token.
    pub async fn post(
        &self,
        id: u16,
        path: &str,
        body: serde_json::Value,
    ) -> failover_impl::client::Answer {
        self.cluster
            .client()
            .post(self.admin(id), path, Some(body))
            .await
            .expect("node answers")
    }

    /// The failover timeout of the cluster.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timings.timeout_ms)
    }

    /// Waits until every node of `on` has committed (or learned) the failover of `node`;
    /// returns the time it took. Panics after `limit`.
    pub async fn wait_failover(&self, node: u16, on: &[u16], limit: Duration) -> Duration {
        let started = Instant::now();
        loop {
            let mut all = true;
            for id in on {
                let seen = self
                    .failovers(*id)
                    .await
                    .iter()
                    .filter(|r| r.node == node)
                    .count();
                assert!(seen <= 1, "node {id} lists {seen} failovers of {node}");
                all &= seen == 1;
            }
            if all {
                return started.elapsed();
            }
            assert!(
                started.elapsed() < limit,
                "node {node} not failed over on {on:?} within {limit:?}; logs in {}",
                self.cluster.dir().display()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Asserts that `node` is not failed over on any of `on` for `during`.
    pub async fn assert_no_failover(&self, node: u16, on: &[u16], during: Duration) {
        let started = Instant::now();
        while started.elapsed() < during {
            for id in on {
                let records = self.failovers(*id).await;
                assert!(
                    records.iter().all(|r| r.node != node),
                    "node {node} was failed over on {id}: {records:?}"
                );
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// The `/metrics` value of a series, 0 if the node has not counted any yet (labelled
    /// counters appear with their first count).
    pub async fn count(&self, id: u16, series: &str) -> f64 {
        let text = self.cluster.client().metrics(self.admin(id)).await.unwrap();
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .find_map(|l| {
                l.strip_prefix(series)?
                    .strip_prefix(' ')?
                    .trim()
                    .parse()
                    .ok()
            })
            .unwrap_or(0.0)
    }

    /// The `/metrics` value of a series; panics if the node does not export it.
    pub async fn metric(&self, id: u16, series: &str) -> f64 {
        let text = self.cluster.client().metrics(self.admin(id)).await.unwrap();
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .find_map(|l| {
                l.strip_prefix(series)?
                    .strip_prefix(' ')?
                    .trim()
                    .parse()
                    .ok()
            })
            .unwrap_or_else(|| panic!("node {id} exports no {series}:\n{text}"))
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        let _ = self.cluster.stop_all();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(self.cluster.dir());
        }
    }
}

/// Polls `check` until it holds or `limit` passes.
pub async fn eventually<F, Fut>(what: &str, limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < limit, "not within {limit:?}: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
