//! Assembles one node: config, secret, state, transport, driver and admin API, on the
//! seams it is given ([`serve`]): the real ones for a process ([`run`]), the simulated ones
//! for the simulation.

use crate::api;
use crate::auth::Key;
use crate::config::NodeConfig;
use crate::driver::{report_fatal, Driver};
use crate::metrics::Metrics;
use crate::seams::{unix_ms, Env, FileJournal, Journal, Net, StartKind, StartRecord, TokioNet};
use crate::storage::Storage;
use crate::transport::{Transport, TransportConfig};
use anyhow::Context;
use failover_core::{Commit, Node, NodeId};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tracing::{info, warn};

/// How a node starts when its data directory holds no state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// Only from the state on disk; none is an error.
    FromDisk,
    /// A member of a brand-new cluster: from the first config.
    Bootstrap,
    /// A node that lost its disk: blank, on a new disk identity, readmitted before it
    /// votes or accepts.
    Rejoin,
}

/// The core to run: restored from disk, or new as `start` says, with the newest commit
/// this node knew of. A new state is written before the node does anything else.
fn first_state(
    config: &NodeConfig,
    storage: &Storage,
    start: Start,
) -> anyhow::Result<(Node, Option<Commit>, StartKind)> {
    let params = config.params();
    let blank = match (storage.load()?, start) {
        (Some(state), Start::Rejoin) => anyhow::bail!(
            "--rejoin is for a node that lost its state, but {} holds one (revision {}); \
             refusing to throw it away",
            config.data_dir.display(),
            state.config().revision
        ),
        (Some(state), _) => {
            info!(
                revision = state.config().revision,
                promised = state.promised(),
                pre_voted = state.pre_voted(),
                rejoining = state.rejoining(),
                "restarting from disk"
            );
            let committed = storage.load_committed()?;
            let node = Node::restart(params, state).with_context(|| {
                format!(
                    "refusing to start from the state in {}",
                    config.data_dir.display()
                )
            })?;
            return Ok((node, committed, StartKind::Disk));
        }
        (None, Start::FromDisk) => anyhow::bail!(
            "no state in {}: start with --bootstrap for a member of a brand-new cluster, or \
             --rejoin if this node lost its data (it is readmitted before it votes again)",
            config.data_dir.display()
        ),
        (None, Start::Bootstrap) => {
            info!("starting as a member of a new cluster");
            Node::bootstrap(params.clone(), config.initial_settings())
        }
        (None, Start::Rejoin) => {
            let boot = u64::from_le_bytes(crate::auth::random_bytes::<8>()).max(1);
            info!(boot, "lost state: rejoining on a new disk");
            Node::rejoin(params.clone(), config.initial_settings(), boot)
        }
    };
    storage.save(blank.persistent())?;
    // Every member of a new cluster starts from the same first config: it is committed
    // by construction. A node that lost its disk knows of no commit until readmitted.
    let committed = (start == Start::Bootstrap).then(|| Commit {
        term: blank.persistent().accepted_term(),
        by: params.id,
        config: blank.persistent().config().clone(),
        learned: false,
    });
    if let Some(commit) = &committed {
        storage.save_committed(commit)?;
    }
    let kind = match start {
        Start::Rejoin => StartKind::Rejoin,
        _ => StartKind::Bootstrap,
    };
    Ok((blank, committed, kind))
}

/// Runs the node of `config` as a process until SIGTERM or Ctrl-C.
/// With a `journal`, every start and core step is recorded there.
pub async fn run(
    config: NodeConfig,
    start: Start,
    journal: Option<FileJournal>,
) -> anyhow::Result<()> {
    let key = Key::load(&config.secret_file)?;
    ensure_descriptors(config.peers.len())?;
    let env = Env {
        journal: journal.map(|j| Arc::new(j) as Arc<dyn Journal>),
        ..Env::real()
    };
    serve::<TokioNet>(config, start, key, env, stop_signal()).await
}

/// Runs the node of `config` on the network `N` and `env` until `stop` resolves or its
/// state cannot be persisted.
pub async fn serve<N: Net>(
    config: NodeConfig,
    start: Start,
    key: Key,
    env: Env,
    stop: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let params = config.params();
    let storage = Storage::open_on(env.disk.clone(), &config.data_dir, params.id)?;
    warn_if_no_majority_survives(&config);
    let (core, committed, kind) = first_state(&config, &storage, start)?;
    if let Some(journal) = &env.journal {
        let persistent = core.persistent().clone();
        journal.start(StartRecord::new(
            unix_ms(),
            kind,
            params.clone(),
            persistent,
        ));
    }
    let metrics = Arc::new(Metrics::new());
    let (net_tx, net_rx) = mpsc::channel(4096);
    let transport_config = TransportConfig {
        me: params.id,
        listen: config.listen,
        peers: config
            .peers
            .iter()
            .map(|p| (NodeId(p.id), p.address))
            .collect(),
        net_tick: Duration::from_millis(config.net_tick_timeout_ms),
        max_frame_bytes: config.max_frame_bytes,
        max_backoff: Duration::from_millis(config.heartbeat_ms.clamp(10, 1000)),
    };
    let transport = Transport::start::<N>(transport_config, key.clone(), metrics.clone(), net_tx)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let metrics_for_api = metrics.clone();
    let (driver, handle, commands) =
        Driver::new(&config, core, committed, storage, transport, metrics, &env);
    let listener = N::bind(config.admin)
        .await
        .with_context(|| format!("cannot serve the admin API on {}", config.admin))?;
    let app = api::router(handle, key.clone());
    tokio::spawn(crate::api_server::serve(listener, app, metrics_for_api));
    info!(
        id = config.id,
        design = %config.design,
        listen = %config.listen,
        admin = %config.admin,
        "node running"
    );
    let result = driver.run(net_rx, commands, stop).await;
    if let Err(e) = &result {
        report_fatal(e);
    }
    info!("node stopped");
    result.map_err(Into::into)
}

/// A cluster that cannot fail any node over is legal but almost surely a mistake: say so.
fn warn_if_no_majority_survives(config: &NodeConfig) {
    if let Some(why) = crate::config::no_failover_possible(config.design, config.peers.len() + 1) {
        warn!("{why}");
    }
}

/// Descriptors kept for persistence (state and commit files, their temporary files and the
/// directory), the log and the runtime: never taken by connections.
const RESERVED_DESCRIPTORS: usize = 64;

/// Descriptors a node with `peers` peers may hold at most: every connection it may accept
/// or make, and the reserve.
pub fn descriptors_needed(peers: usize) -> usize {
    crate::api_server::max_descriptors()
        + crate::transport::max_descriptors(peers)
        + RESERVED_DESCRIPTORS
}

/// Makes the open-file limit cover every connection this node may accept plus the
/// reserve, so that no flood of connections can keep it from persisting.
fn ensure_descriptors(peers: usize) -> anyhow::Result<()> {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let needed = descriptors_needed(peers) as u64;
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE)?;
    if soft >= needed {
        return Ok(());
    }
    anyhow::ensure!(
        hard >= needed,
        "the open-file limit ({hard}) is below the {needed} descriptors this node may hold \
         with {peers} peers; raise it (ulimit -n)"
    );
    setrlimit(Resource::RLIMIT_NOFILE, needed, hard)?;
    info!(from = soft, to = needed, "raised the open-file limit");
    Ok(())
}

async fn stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
