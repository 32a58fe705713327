//! The `failover` CLI as a user runs it: cluster up (detached and in the foreground),
//! status, faults by name, cluster down, and clear errors.

use failover_tests::cluster::{exe, temp_dir};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const TIMINGS: [&str; 6] = [
    "--heartbeat-ms",
    "40",
    "--timeout-ms",
    "400",
    "--net-tick-ms",
    "2000",
];

fn failover(args: &[&str], dir: &Path) -> Output {
    Command::new(exe())
        .args(args)
        .arg("--dir")
        .arg(dir)
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn status_json(dir: &Path) -> Vec<serde_json::Value> {
    serde_json::from_str(&ok(&failover(&["status", "--json"], dir))).unwrap()
}

fn pids(dir: &Path) -> Vec<i32> {
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("cluster.json")).unwrap()).unwrap();
    file["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["pid"].as_i64())
        .map(|p| p as i32)
        .collect()
}

/// Stops the cluster in `dir` when the test ends, passed or not.
struct Down<'a>(&'a Path);

impl Drop for Down<'_> {
    fn drop(&mut self) {
        let _ = failover(&["cluster", "down"], self.0);
    }
}

fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| !s.contains(") Z "))
        .unwrap_or(false)
}

#[test]
fn detached_cluster_status_faults_and_down() {
    let dir = temp_dir("cli-detached");
    let _down = Down(&dir);
    let mut args = vec!["cluster", "up", "--nodes", "3", "--detach"];
    args.extend(TIMINGS);
    let table = ok(&failover(&args, &dir));
    assert!(table.contains("orchestrator"), "{table}");
    let started = pids(&dir);
    assert_eq!(started.len(), 3);

    let rows = status_json(&dir);
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r["process"] == "up"));
    assert_eq!(rows[0]["status"]["role"], "orchestrator");

    assert!(ok(&failover(&["fault", "pause", "orchestrator"], &dir)).contains("node 1"));
    let rows = status_json(&dir);
    assert_eq!(rows[0]["process"], "paused");
    ok(&failover(&["fault", "resume", "1"], &dir));
    ok(&failover(&["fault", "restart", "3"], &dir));
    assert_ne!(pids(&dir)[2], started[2], "node 3 runs as a new process");

    let bad = failover(&["fault", "kill", "9"], &dir);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no node 9"));
    let bad = failover(&["fault", "kill", "leader"], &dir);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("`orchestrator`"));

    let running = pids(&dir);
    ok(&failover(&["cluster", "down"], &dir));
    assert!(running.iter().all(|p| !alive(*p)), "every node stopped");
    let rows = status_json(&dir);
    assert!(rows.iter().all(|r| r["process"] == "down"));
    let again = failover(&["cluster", "up", "--nodes", "3"], &dir);
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds a cluster"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn foreground_cluster_stops_its_nodes_on_ctrl_c() {
    let dir = temp_dir("cli-foreground");
    let _down = Down(&dir);
    let mut child = Command::new(exe())
        .args(["cluster", "up", "--nodes", "3"])
        .args(TIMINGS)
        .arg("--dir")
        .arg(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let line = lines.next().expect("output until running").unwrap();
        if line.contains("Ctrl-C") {
            break;
        }
        assert!(Instant::now() < deadline);
    }
    let running = pids(&dir);
    assert!(running.iter().all(|p| alive(*p)));
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success());
    assert!(
        running.iter().all(|p| !alive(*p)),
        "Ctrl-C stopped the nodes"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn status_of_a_missing_cluster_is_a_clear_error() {
    let out = failover(&["status"], Path::new("/no/such/cluster"));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no cluster in /no/such/cluster"));
}

/// The processes that run a node of the cluster in `dir`.
fn node_processes(dir: &Path) -> Vec<i32> {
    let dir = dir.as_os_str().as_encoded_bytes();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
            args.contains(&b"node".as_slice())
                && args.iter().any(|a| a.windows(dir.len()).any(|w| w == dir))
                && alive(*pid)
        })
        .collect()
}

#[test]
fn concurrent_faults_lose_no_update_and_down_stops_every_node() {
    let dir = temp_dir("cli-concurrent");
    let _down = Down(&dir);
    let mut args = vec!["cluster", "up", "--nodes", "5", "--detach"];
    args.extend(TIMINGS);
    ok(&failover(&args, &dir));
    // Four restarts at once, two of them of the same node.
    let children: Vec<_> = ["2", "3", "4", "4"]
        .iter()
        .map(|node| {
            Command::new(exe())
                .args(["fault", "restart", node, "--dir"])
                .arg(&dir)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        ok(&child.wait_with_output().unwrap());
    }
    let mut recorded = pids(&dir);
    assert_eq!(recorded.len(), 5, "every node's process is recorded");
    let mut running = node_processes(&dir);
    recorded.sort();
    running.sort();
    assert_eq!(running, recorded, "no node runs unrecorded");
    ok(&failover(&["cluster", "down"], &dir));
    assert_eq!(
        node_processes(&dir),
        Vec::<i32>::new(),
        "every node stopped"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_restart_that_fails_is_reported_as_failed() {
    let dir = temp_dir("cli-restart-fails");
    let _down = Down(&dir);
    let mut args = vec!["cluster", "up", "--nodes", "3", "--detach"];
    args.extend(TIMINGS);
    ok(&failover(&args, &dir));
    ok(&failover(&["fault", "kill", "3"], &dir));
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("cluster.json")).unwrap()).unwrap();
    let listen = file["members"][2]["listen"].as_str().unwrap().to_string();
    // Another process took node 3's peer port.
    let _squatter = std::net::TcpListener::bind(&listen).unwrap();
    let out = failover(&["fault", "restart", "3"], &dir);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("node 3 exited"), "{stderr}");
    assert!(stderr.contains("cannot listen"), "{stderr}");
    ok(&failover(&["cluster", "down"], &dir));
    assert_eq!(
        node_processes(&dir),
        Vec::<i32>::new(),
        "every node stopped"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
