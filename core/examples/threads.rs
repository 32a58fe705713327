//! Embedding `failover-core` without an async runtime: three nodes, each a plain thread
//! with an in-memory "disk" and channels for a network, driven through the calling
//! contract: tick → step → persist → send → report, and restart from what was persisted.
//!
//! The orchestrator (node 0) crashes; nodes 1 and 2 fail it over. Then node 0 restarts
//! from its disk, learns that it was failed over, and never acts as orchestrator again.
//!
//! Run it with `cargo run -p failover-core --example threads`.

use failover_core::{
    Commit, Design, Membership, Message, Node, NodeId, Params, Persistent, Settings,
};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What a node thread receives: the clock's tick, a peer's message, or a crash.
enum Inbox {
    Tick,
    Message { from: NodeId, msg: Message },
    Crash,
}

/// Every node's inbox; a crashed node's is `None` (what is sent to it is lost).
type Network = Arc<Mutex<Vec<Option<Sender<Inbox>>>>>;

/// What nodes report to the main thread: commits they made or learned.
type Reports = Sender<(NodeId, Commit)>;

const NODES: u16 = 3;
const TICK: Duration = Duration::from_millis(20);

fn params(id: u16) -> Params {
    let members = (0..NODES).map(NodeId);
    Params::new(NodeId(id), members, Design::Fenced, 2).expect("valid parameters")
}

/// Runs one node until it crashes; returns its disk, as a crash would leave it.
fn run(mut node: Node, inbox: Receiver<Inbox>, net: Network, reports: Reports) -> Persistent {
    // A new node's state is on its disk before it first steps.
    let mut disk = node.persistent().clone();
    for input in inbox {
        let mut ready = match input {
            Inbox::Tick => node.tick(),
            Inbox::Message { from, msg } => match node.receive(from, msg) {
                Ok(ready) => ready,
                // A message from a stranger changes nothing.
                Err(_unknown_peer) => continue,
            },
            Inbox::Crash => return disk,
        };
        // 1. Persist first: no message of this step may leave before its state is durable.
        if let Some(state) = ready.take_persist() {
            disk = state;
        }
        // 2. Then send. Loss is fine: the protocol retransmits what matters.
        let peers = net.lock().unwrap().clone();
        for out in ready.messages().expect("persisted above") {
            if let Some(Some(peer)) = peers.get(usize::from(out.to.0)) {
                let _ = peer.send(Inbox::Message {
                    from: node.id(),
                    msg: out.msg,
                });
            }
        }
        // 3. Then report what was committed (by this node or learned from a peer).
        if let Some(commit) = ready.commit {
            let _ = reports.send((node.id(), commit));
        }
    }
    disk
}

fn start(node: Node, net: &Network, reports: &Reports) -> JoinHandle<Persistent> {
    let (tx, rx) = channel();
    net.lock().unwrap()[usize::from(node.id().0)] = Some(tx);
    let (net, reports) = (net.clone(), reports.clone());
    std::thread::spawn(move || run(node, rx, net, reports))
}

/// The clock: one tick to every running node per `TICK`, until `done` says stop.
fn tick_until(
    net: &Network,
    reports: &Receiver<(NodeId, Commit)>,
    limit: Duration,
    mut done: impl FnMut(NodeId, &Commit) -> bool,
) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        for inbox in net.lock().unwrap().iter().flatten() {
            let _ = inbox.send(Inbox::Tick);
        }
        let next = Instant::now() + TICK;
        loop {
            match reports.recv_timeout(next.saturating_duration_since(Instant::now())) {
                Ok((by, commit)) if done(by, &commit) => return true,
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => return false,
            }
        }
    }
    false
}

fn crash(id: u16, net: &Network, handle: JoinHandle<Persistent>) -> Persistent {
    let inbox = net.lock().unwrap()[usize::from(id)]
        .take()
        .expect("node runs");
    let _ = inbox.send(Inbox::Crash);
    handle.join().expect("node thread")
}

fn main() {
    let settings = Settings {
        timeout_ticks: 5,
        ..Settings::default()
    };
    let net: Network = Arc::new(Mutex::new(vec![None; usize::from(NODES)]));
    let (reports, commits) = channel();
    // A settled cluster: node 0 orchestrates (a new one would start from empty disks).
    let mut handles: Vec<_> = (0..NODES)
        .map(|id| {
            start(
                Node::settled(params(id), settings, NodeId(0)),
                &net,
                &reports,
            )
        })
        .collect();
    tick_until(&net, &commits, TICK * 10, |_, _| false);

    println!("node 0 (the orchestrator) crashes");
    let crashed_at = Instant::now();
    let disk = crash(0, &net, handles.remove(0));
    let failed_over = |c: &Commit| c.config.history.iter().any(|r| r.node == NodeId(0));
    let done = tick_until(&net, &commits, Duration::from_secs(5), |by, c| {
        if failed_over(c) {
            let record = c
                .config
                .history
                .iter()
                .find(|r| r.node == NodeId(0))
                .unwrap();
            println!(
                "node {} {} the failover of node 0 after {:?}: term {}, revision {}, decided by node {}",
                by.0,
                if c.learned { "learned" } else { "committed" },
                crashed_at.elapsed(),
                record.term,
                record.revision,
                record.issuer.0
            );
        }
        failed_over(c) && !c.learned
    });
    assert!(done, "node 0 was failed over");

    println!(
        "node 0 restarts from its disk (revision {})",
        disk.config().revision
    );
    let restarted = Node::restart(params(0), disk).expect("its own disk");
    handles.insert(0, start(restarted, &net, &reports));
    let learned = tick_until(&net, &commits, Duration::from_secs(5), |by, c| {
        by == NodeId(0) && c.config.membership[&NodeId(0)] == Membership::FailedOver
    });
    assert!(learned, "node 0 learned it was failed over");
    println!("node 0 learned that it was failed over; it will not act as orchestrator again");

    for id in 0..NODES {
        let _ = crash(id, &net, handles.remove(0));
    }
}

#[cfg(test)]
mod tests {
    /// The example runs as a test (`test = true` in Cargo.toml), so that it keeps compiling
    /// and keeps doing what it says: its assertions fail it if the orchestrator is not
    /// failed over, or the restarted node does not learn it.
    #[test]
    fn fails_the_orchestrator_over_and_restarts_it() {
        super::main();
    }
}
