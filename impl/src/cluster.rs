//! A local cluster of node processes in one directory: `DIR/secret`, `DIR/admin.token`,
//! `DIR/read.token`,
//! `DIR/cluster.json` (addresses and process ids, so that any later command finds the nodes)
//! and `DIR/node<N>/` with each node's config, state and log.

use crate::auth::Key;
use crate::client::Client;
use crate::config::{NodeConfig, PeerConfig};
use crate::driver::Status;
use anyhow::{bail, Context};
use failover_core::Design;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::net::{SocketAddr, TcpListener};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Timings and shape of a new cluster.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Timings {
    /// Heartbeat interval (one detection tick).
    pub heartbeat_ms: u64,
    /// Auto-failover timeout.
    pub timeout_ms: u64,
    /// Net-tick timeout (silence before an unclean `nodedown`).
    pub net_tick_ms: u64,
    /// Failover quota.
    pub max_count: u32,
}

/// How to start a cluster.
#[derive(Clone, Debug)]
pub struct Spec {
    /// Number of nodes.
    pub nodes: u16,
    /// Their design.
    pub design: Design,
    /// Their timings.
    pub timings: Timings,
    /// Log filter for the nodes.
    pub log: String,
    /// JSON log lines.
    pub log_json: bool,
    /// Each node appends its journal to `DIR/journals/nID.jsonl` (for
    /// `failover-model validate DIR/journals`).
    pub journals: bool,
}

/// One node of the cluster file.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Member {
    /// Node id.
    pub id: u16,
    /// Peer address.
    pub listen: SocketAddr,
    /// Admin API address.
    pub admin: SocketAddr,
    /// Config file.
    pub config: PathBuf,
    /// Log file.
    pub log: PathBuf,
    /// Process id, while started by these tools.
    pub pid: Option<u32>,
}

/// `DIR/cluster.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ClusterFile {
    /// The design.
    pub design: Design,
    /// Timings the configs were written with.
    pub timings: Timings,
    /// Node log filter.
    pub log: String,
    /// JSON logs.
    pub log_json: bool,
    /// Journals in `DIR/journals`.
    #[serde(default)]
    pub journals: bool,
    /// The nodes.
    pub members: Vec<Member>,
}

/// What a node process is doing, as the OS says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcessState {
    /// Running.
    Up,
    /// Stopped by SIGSTOP.
    Paused,
    /// Not running.
    Down,
}

/// A fault to inject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fault {
    /// SIGKILL.
    Kill,
    /// SIGSTOP.
    Pause,
    /// SIGCONT.
    Resume,
    /// SIGKILL if running, then start again from its data directory.
    Restart,
}

/// A local cluster.
#[derive(Debug)]
pub struct Cluster {
    dir: PathBuf,
    exe: PathBuf,
    /// The cluster file.
    pub file: ClusterFile,
    children: BTreeMap<u16, Child>,
    client: Client,
}

const FILE: &str = "cluster.json";
/// Held (an exclusive `flock`) by every command while it changes nodes or `cluster.json`:
/// two `fault` commands at once take turns instead of losing each other's updates.
const LOCK: &str = "cluster.lock";

/// The cluster's lock, released when dropped.
struct Locked(fs::File);

impl Drop for Locked {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

impl Cluster {
    /// Writes configs, secret and token for a new cluster in `dir` (which must not hold one).
    pub fn create(dir: &Path, spec: &Spec, exe: &Path) -> anyhow::Result<Cluster> {
        anyhow::ensure!(spec.nodes >= 2, "a cluster needs at least 2 nodes");
        if let Some(why) = crate::config::no_failover_possible(spec.design, usize::from(spec.nodes))
        {
            eprintln!("warning: {why}");
        }
        if dir.join(FILE).exists() {
            bail!("{} already holds a cluster; run `failover cluster down --dir {}` and remove it first", dir.display(), dir.display());
        }
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let dir = dir.canonicalize()?;
        let secret_file = dir.join("secret");
        fs::write(&secret_file, Key::generate_hex() + "\n")?;
        restrict(&secret_file)?;
        let key = Key::load(&secret_file)?;
        let token = key.admin_token();
        fs::write(dir.join("admin.token"), format!("{token}\n"))?;
        restrict(&dir.join("admin.token"))?;
        fs::write(dir.join("read.token"), format!("{}\n", key.read_token()))?;
        restrict(&dir.join("read.token"))?;
        // Bind every port before releasing any, so that no two nodes get the same one.
        let mut next = first_candidate_port();
        let holders: Vec<(TcpListener, TcpListener)> = (0..spec.nodes)
            .map(|_| Ok((bind_listen_port(&mut next)?, bind_listen_port(&mut next)?)))
            .collect::<std::io::Result<_>>()?;
        let addrs: Vec<(SocketAddr, SocketAddr)> = holders
            .iter()
            .map(|(a, b)| Ok((a.local_addr()?, b.local_addr()?)))
            .collect::<std::io::Result<_>>()?;
        drop(holders);
        let t = &spec.timings;
        let mut members = Vec::new();
        for i in 0..spec.nodes {
            let id = i + 1;
            let node_dir = dir.join(format!("node{id}"));
            fs::create_dir_all(&node_dir)?;
            let config = NodeConfig {
                id,
                // Node 1 is the first master, then 2, ...: successors are predictable.
                priority: u32::from(spec.nodes - i),
                listen: addrs[i as usize].0,
                admin: addrs[i as usize].1,
                data_dir: node_dir.join("data"),
                design: spec.design,
                secret_file: secret_file.clone(),
                heartbeat_ms: t.heartbeat_ms,
                failover_timeout_ms: t.timeout_ms,
                net_tick_timeout_ms: t.net_tick_ms,
                max_count: t.max_count,
                can_abort_rebalance: true,
                master_timeout_ms: None,
                max_frame_bytes: crate::config::DEFAULT_MAX_FRAME_BYTES,
                peers: (0..spec.nodes)
                    .filter(|j| *j != i)
                    .map(|j| PeerConfig {
                        id: j + 1,
                        address: addrs[j as usize].0,
                        priority: u32::from(spec.nodes - j),
                    })
                    .collect(),
            };
            config.validate()?;
            let config_path = node_dir.join("node.toml");
            fs::write(&config_path, config.to_toml())?;
            members.push(Member {
                id,
                listen: config.listen,
                admin: config.admin,
                config: config_path,
                log: node_dir.join("node.log"),
                pid: None,
            });
        }
        let cluster = Cluster {
            dir: dir.clone(),
            exe: exe.to_path_buf(),
            file: ClusterFile {
                design: spec.design,
                timings: spec.timings.clone(),
                log: spec.log.clone(),
                log_json: spec.log_json,
                journals: spec.journals,
                members,
            },
            children: BTreeMap::new(),
            client: Client::new(Some(token)),
        };
        cluster.save()?;
        Ok(cluster)
    }

    /// The cluster in `dir`.
    pub fn load(dir: &Path, exe: &Path) -> anyhow::Result<Cluster> {
        let path = dir.join(FILE);
        let text = fs::read_to_string(&path).with_context(|| {
            format!(
                "no cluster in {} (cannot read {})",
                dir.display(),
                path.display()
            )
        })?;
        let file: ClusterFile = serde_json::from_str(&text)
            .with_context(|| format!("{} is corrupt", path.display()))?;
        let token = fs::read_to_string(dir.join("admin.token"))
            .ok()
            .map(|t| t.trim().to_string());
        Ok(Cluster {
            dir: dir.to_path_buf(),
            exe: exe.to_path_buf(),
            file,
            children: BTreeMap::new(),
            client: Client::new(token),
        })
    }

    /// Waits for the cluster's lock, then takes the process ids other commands recorded.
    fn lock(&mut self) -> anyhow::Result<Locked> {
        let path = self.dir.join(LOCK);
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        file.lock()
            .with_context(|| format!("cannot lock {}", path.display()))?;
        self.reload_pids();
        Ok(Locked(file))
    }

    fn save(&self) -> anyhow::Result<()> {
        let tmp = self.dir.join(format!("{FILE}.tmp"));
        fs::write(&tmp, serde_json::to_string_pretty(&self.file)?)?;
        fs::rename(&tmp, self.dir.join(FILE))?;
        Ok(())
    }

    /// The cluster's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The admin client (with the token).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The member with `id`.
    pub fn member(&self, id: u16) -> anyhow::Result<&Member> {
        self.file
            .members
            .iter()
            .find(|m| m.id == id)
            .ok_or_else(|| anyhow::anyhow!("no node {id} in this cluster"))
    }

    /// Where the nodes' journals are, if they keep them.
    pub fn journal_dir(&self) -> PathBuf {
        self.dir.join("journals")
    }

    /// Starts every node of a cluster that was just created, from empty data directories.
    pub fn bootstrap_all(&mut self) -> anyhow::Result<()> {
        let _lock = self.lock()?;
        let ids: Vec<u16> = self.file.members.iter().map(|m| m.id).collect();
        for id in ids {
            if self.state(id) == ProcessState::Down {
                self.spawn(id, Some("--bootstrap"))?;
            }
        }
        Ok(())
    }

    /// Starts node `id` from its config and data directory, which must hold its state.
    pub fn start(&mut self, id: u16) -> anyhow::Result<()> {
        let _lock = self.lock()?;
        self.spawn(id, None)
    }

    /// Starts node `id` after its data directory was lost: it rejoins on a new disk.
    pub fn rejoin(&mut self, id: u16) -> anyhow::Result<()> {
        let _lock = self.lock()?;
        self.spawn(id, Some("--rejoin"))
    }

    fn spawn(&mut self, id: u16, how: Option<&str>) -> anyhow::Result<()> {
        let member = self.member(id)?.clone();
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&member.log)?;
        let mut command = Command::new(&self.exe);
        command
            .arg("node")
            .arg("--config")
            .arg(&member.config)
            .arg("--log")
            .arg(&self.file.log)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            // Its own process group: Ctrl-C in the terminal reaches the tools, which stop
            // the nodes cleanly, not the nodes directly.
            .process_group(0);
        if self.file.log_json {
            command.arg("--log-json");
        }
        if self.file.journals {
            let dir = self.journal_dir();
            fs::create_dir_all(&dir)?;
            command
                .arg("--journal")
                .arg(dir.join(format!("n{id}.jsonl")));
        }
        command.args(how);
        let child = command
            .spawn()
            .with_context(|| format!("cannot start {}", self.exe.display()))?;
        let pid = child.id();
        self.children.insert(id, child);
        self.file
            .members
            .iter_mut()
            .find(|m| m.id == id)
            .expect("member exists")
            .pid = Some(pid);
        self.save()
    }

    /// What node `id`'s process is doing.
    pub fn state(&mut self, id: u16) -> ProcessState {
        if let Some(child) = self.children.get_mut(&id) {
            if !matches!(child.try_wait(), Ok(None)) {
                self.children.remove(&id);
                return ProcessState::Down;
            }
            // Our own child, alive: trust it even before it has exec'd (its command line is
            // still this process's then).
            return match stat_state(child.id()) {
                ProcessState::Down => ProcessState::Up,
                state => state,
            };
        }
        let Ok(member) = self.member(id) else {
            return ProcessState::Down;
        };
        match member.pid {
            Some(pid) => process_state(pid, &member.config),
            None => ProcessState::Down,
        }
    }

    /// Sends `signal` to node `id`, if it runs.
    fn signal(&mut self, id: u16, signal: Signal) -> anyhow::Result<()> {
        if self.state(id) == ProcessState::Down {
            bail!("node {id} is not running");
        }
        let pid = self.member(id)?.pid.expect("a running node has a pid");
        kill(Pid::from_raw(pid as i32), signal)
            .with_context(|| format!("cannot signal node {id}"))?;
        Ok(())
    }

    /// Injects `fault` into node `id`.
    pub fn fault(&mut self, id: u16, fault: Fault) -> anyhow::Result<()> {
        let _lock = self.lock()?;
        match fault {
            Fault::Kill => {
                self.signal(id, Signal::SIGKILL)?;
                self.wait_down(id)?;
            }
            Fault::Pause => self.signal(id, Signal::SIGSTOP)?,
            Fault::Resume => self.signal(id, Signal::SIGCONT)?,
            Fault::Restart => {
                if self.state(id) != ProcessState::Down {
                    self.signal(id, Signal::SIGKILL)?;
                    self.wait_down(id)?;
                }
                self.spawn(id, None)?;
            }
        }
        Ok(())
    }

    fn wait_down(&mut self, id: u16) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.state(id) != ProcessState::Down {
            if Instant::now() > deadline {
                bail!("node {id} is still running 5 s after SIGKILL");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(())
    }

    /// Restarts node `id` from its data directory and waits until the new process answers,
    /// all under the cluster's lock: a concurrent command cannot kill it in between, and
    /// a process that exits (a port taken, a corrupt state file) is reported as a failure.
    pub async fn restart(&mut self, id: u16, timeout: Duration) -> anyhow::Result<()> {
        let _lock = self.lock()?;
        if self.state(id) != ProcessState::Down {
            self.signal(id, Signal::SIGKILL)?;
            self.wait_down(id)?;
        }
        self.spawn(id, None)?;
        self.wait_answering(id, timeout).await
    }

    /// Waits until node `id` answers its admin API; fails at once if its process exits
    /// (a port taken, a corrupt state file), with the end of its log.
    pub async fn wait_answering(&mut self, id: u16, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        let member = self.member(id)?.clone();
        loop {
            if self.state(id) == ProcessState::Down {
                let log = fs::read_to_string(&member.log).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(5).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                bail!("node {id} exited; its log ends:\n{}", tail.join("\n"));
            }
            // The process that answers must be the one just started, not an older one
            // still holding the port (the new one then exits: reported above).
            let recorded = self.member(id)?.pid;
            if let Ok(status) = self.client.status(member.admin).await {
                if Some(status.pid) == recorded {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                bail!(
                    "node {id} does not answer on {} after {timeout:?}",
                    member.admin
                );
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Takes the process ids other commands recorded (a node restarted by `fault restart`
    /// while this process ran `cluster up`).
    fn reload_pids(&mut self) {
        let Ok(text) = fs::read_to_string(self.dir.join(FILE)) else {
            return;
        };
        let Ok(on_disk) = serde_json::from_str::<ClusterFile>(&text) else {
            return;
        };
        for member in &mut self.file.members {
            if let Some(other) = on_disk.members.iter().find(|m| m.id == member.id) {
                if other.pid != member.pid {
                    self.children.remove(&member.id);
                    member.pid = other.pid;
                }
            }
        }
    }

    /// Stops every node: SIGCONT (a paused node cannot stop), SIGTERM, then SIGKILL after 3 s.
    pub fn stop_all(&mut self) -> anyhow::Result<()> {
        let _lock = self.lock()?;
        for pid in self.strays() {
            // A node of this cluster that no record holds (started by hand, or recorded
            // by an older version that lost an update): stopped too.
            let _ = kill(Pid::from_raw(pid as i32), Signal::SIGCONT);
            let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
        }
        let ids: Vec<u16> = self.file.members.iter().map(|m| m.id).collect();
        for id in &ids {
            if self.state(*id) != ProcessState::Down {
                let _ = self.signal(*id, Signal::SIGCONT);
                let _ = self.signal(*id, Signal::SIGTERM);
            }
        }
        let deadline = Instant::now() + Duration::from_secs(3);
        for id in &ids {
            while self.state(*id) != ProcessState::Down && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            if self.state(*id) != ProcessState::Down {
                let _ = self.signal(*id, Signal::SIGKILL);
                self.wait_down(*id)?;
            }
        }
        for member in &mut self.file.members {
            member.pid = None;
        }
        self.save()
    }

    /// Processes that run a node of this cluster (their command line names one of its
    /// configs) but are not the recorded process of that node.
    fn strays(&self) -> Vec<u32> {
        let recorded: Vec<u32> = self.file.members.iter().filter_map(|m| m.pid).collect();
        let Ok(entries) = fs::read_dir("/proc") else {
            return Vec::new();
        };
        entries
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| !recorded.contains(pid) && *pid != std::process::id())
            .filter(|pid| {
                self.file
                    .members
                    .iter()
                    .any(|m| process_state(*pid, &m.config) != ProcessState::Down)
            })
            .collect()
    }

    /// Every node's process state and, if it answers, its status.
    pub async fn statuses(&mut self) -> Vec<(Member, ProcessState, Option<Status>)> {
        let members = self.file.members.clone();
        let mut out = Vec::new();
        for member in members {
            let state = self.state(member.id);
            let status = match state {
                ProcessState::Up => self.client.status(member.admin).await.ok(),
                _ => None,
            };
            out.push((member, state, status));
        }
        out
    }

    /// The orchestrator that every answering node agrees on, if they agree.
    pub async fn agreed_orchestrator(&mut self) -> Option<u16> {
        let statuses: Vec<Status> = self
            .statuses()
            .await
            .into_iter()
            .filter_map(|(_, _, s)| s)
            .collect();
        let first = statuses.first()?.orchestrator?;
        let agreed = statuses.iter().all(|s| s.orchestrator == Some(first))
            && statuses.iter().any(|s| s.id == first && s.is_orchestrator);
        agreed.then_some(first)
    }

    /// Waits until the running nodes agree on an orchestrator and all see each other up.
    pub async fn wait_settled(&mut self, timeout: Duration) -> anyhow::Result<u16> {
        let deadline = Instant::now() + timeout;
        loop {
            let statuses = self.statuses().await;
            let all_answer = statuses
                .iter()
                .all(|(_, state, s)| *state != ProcessState::Up || s.is_some());
            let all_up = statuses.iter().all(|(_, _, s)| {
                s.as_ref().is_none_or(|s| {
                    s.peers.iter().all(|p| {
                        p.membership == failover_core::Membership::FailedOver
                            || p.health == failover_core::Health::Up
                    })
                })
            });
            if all_answer && all_up {
                if let Some(orchestrator) = self.agreed_orchestrator().await {
                    return Ok(orchestrator);
                }
            }
            if Instant::now() > deadline {
                bail!("the nodes did not agree on an orchestrator within {timeout:?}; see the logs in {}", self.dir.display());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Resolves a node name: a node id, or `orchestrator` (the one the live nodes agree on,
    /// else the one that acts as orchestrator with the highest term).
    pub async fn resolve(&mut self, name: &str) -> anyhow::Result<u16> {
        if name == "orchestrator" {
            if let Some(o) = self.agreed_orchestrator().await {
                return Ok(o);
            }
            let statuses = self.statuses().await;
            return statuses
                .iter()
                .filter_map(|(_, _, s)| s.as_ref())
                .filter(|s| s.is_orchestrator)
                .max_by_key(|s| s.term)
                .map(|s| s.id)
                .ok_or_else(|| anyhow::anyhow!("no live node acts as orchestrator"));
        }
        let id: u16 = name.parse().map_err(|_| {
            anyhow::anyhow!("bad node {name:?}: expected a node id or `orchestrator`")
        })?;
        self.member(id)?;
        Ok(id)
    }
}

fn restrict(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))?;
    Ok(())
}

/// The state of `pid`, if it is still the node process of `config` (pids get reused).
fn process_state(pid: u32, config: &Path) -> ProcessState {
    let Ok(cmdline) = fs::read(format!("/proc/{pid}/cmdline")) else {
        return ProcessState::Down;
    };
    // A node process: `... node --config CONFIG ...` (not, say, a pager on the config).
    let config = config.as_os_str().as_encoded_bytes();
    let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
    let runs_config = args
        .windows(2)
        .any(|w| w[0] == b"--config".as_slice() && w[1] == config);
    if !runs_config || !args.contains(&b"node".as_slice()) {
        return ProcessState::Down;
    }
    stat_state(pid)
}

/// The state letter of `pid` in `/proc`.
fn stat_state(pid: u32) -> ProcessState {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The state letter follows the command name in parentheses.
    match stat
        .rsplit_once(") ")
        .and_then(|(_, rest)| rest.chars().next())
    {
        Some('T') | Some('t') => ProcessState::Paused,
        Some('Z') | Some('X') | None => ProcessState::Down,
        Some(_) => ProcessState::Up,
    }
}

/// Renders statuses as a table: committed state only, with a pending proposal and its
/// age in its own column.
pub fn table(rows: &[(Member, ProcessState, Option<Status>)]) -> String {
    let mut table = comfy_table::Table::new();
    table.load_style(comfy_table::presets::NOTHING).set_header([
        "node",
        "process",
        "peer port",
        "admin port",
        "role",
        "term",
        "revision",
        "membership",
        "count",
        "orchestrator",
        "failed over",
        "pending",
    ]);
    for (member, state, status) in rows {
        let process = match state {
            ProcessState::Up => "up",
            ProcessState::Paused => "paused",
            ProcessState::Down => "down",
        };
        let mut row = vec![
            member.id.to_string(),
            process.to_string(),
            member.listen.port().to_string(),
            member.admin.port().to_string(),
        ];
        match status {
            Some(s) => {
                row.push(s.role.clone());
                row.push(s.term.to_string());
                match &s.committed {
                    Some(c) => row.extend([
                        c.revision.to_string(),
                        c.membership.to_string(),
                        format!("{}/{}", c.failover_count, c.max_count),
                    ]),
                    None => row.extend(["-".into(), "rejoining".into(), "-".into()]),
                }
                row.push(s.orchestrator.map_or("-".to_string(), |o| o.to_string()));
                let failed: Vec<String> = s
                    .committed
                    .iter()
                    .flat_map(|c| c.failed_over.iter().map(|n| n.to_string()))
                    .collect();
                row.push(if failed.is_empty() {
                    "-".into()
                } else {
                    failed.join(",")
                });
                row.push(match &s.pending {
                    Some(p) => format!("r{} for {} ms", p.revision, p.age_ms),
                    None => "-".into(),
                });
            }
            None => row.push("(no answer)".into()),
        }
        table.add_row(row);
    }
    format!("{table}\n")
}

/// Node ports are taken below Linux's default range of ephemeral ports (32768–60999): a
/// port from that range, once its node stops, can become the source port of another
/// node's outgoing connection, and the node could then not listen on it again when it
/// restarts.
const NODE_PORTS: std::ops::Range<u16> = 20000..32000;

/// Where the search for free node ports starts: spread, so that clusters started at the
/// same time (parallel tests) seldom try the same ports.
fn first_candidate_port() -> u16 {
    use std::hash::BuildHasher;
    let spread = std::collections::hash_map::RandomState::new().hash_one(std::process::id());
    let width = u64::from(NODE_PORTS.end - NODE_PORTS.start);
    NODE_PORTS.start + u16::try_from(spread % width).expect("below the width")
}

/// Binds the next free port of [`NODE_PORTS`] from `*next` on (wrapping), or any free port
/// if the whole range is taken.
fn bind_listen_port(next: &mut u16) -> std::io::Result<TcpListener> {
    for _ in NODE_PORTS {
        let port = *next;
        *next = if port + 1 >= NODE_PORTS.end {
            NODE_PORTS.start
        } else {
            port + 1
        };
        if let Ok(listener) = TcpListener::bind(("127.0.0.1", port)) {
            return Ok(listener);
        }
    }
    TcpListener::bind("127.0.0.1:0")
}
