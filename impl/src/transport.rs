//! TCP between nodes. Each node dials every peer to send to it (reconnecting with backoff)
//! and listens for the peers' connections to receive from them. It reports to the driver
//! what the system it comes from reports: messages, and `nodedown` when a peer's connection
//! closes (at once: clean) or stays silent for the net-tick timeout (unclean).
//!
//! Frames that fail authentication, the sequence check or the size limit are logged,
//! counted and dropped with their connection; they never reach the core.
//!
//! Connections that have not yet sent a valid `Hello` (bound to this node's fresh nonce,
//! so only a holder of the secret can make one) share [`MAX_HANDSHAKES`] slots, and a new
//! one evicts the oldest: a real handshake needs one round trip, so a stranger must open
//! more than that many connections per round trip to delay one (and the dialer retries).
//! Each peer that proved itself has its own [`PER_PEER_CONNECTIONS`] slots, so one peer
//! cannot starve another. Sockets are capped too ([`max_descriptors`]): an evicted
//! connection holds its socket until its task closes it, and new ones beyond the cap are
//! closed at once.

use crate::auth::{random_bytes, Key, NONCE_LEN};
use crate::metrics::Metrics;
use crate::seams::{Listener, Net};
use crate::slots::{Slot, Slots};
use crate::wire::{codec, context, open, seal, Envelope, FrameError};
use bytes::Bytes;
use failover_core::{Message, NodeId};
use futures_util::{SinkExt, StreamExt};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, oneshot, Mutex, Semaphore};
use tokio_util::codec::Framed;
use tracing::{debug, info, warn};

/// What the network tells the driver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NetEvent {
    /// An authentic message from a peer.
    Message {
        /// The sender.
        from: NodeId,
        /// The message.
        msg: Message,
    },
    /// The connection from `peer` is gone.
    NodeDown {
        /// The peer.
        peer: NodeId,
        /// Closed (true) or silent past the net-tick timeout (false).
        clean: bool,
    },
}

/// Transport settings.
#[derive(Clone, Debug)]
pub struct TransportConfig {
    /// This node.
    pub me: NodeId,
    /// The address to listen on.
    pub listen: SocketAddr,
    /// Every peer and its address.
    pub peers: BTreeMap<NodeId, SocketAddr>,
    /// Silence after which an inbound connection counts as lost.
    pub net_tick: Duration,
    /// Largest frame accepted.
    pub max_frame_bytes: usize,
    /// Longest wait between reconnection attempts.
    pub max_backoff: Duration,
}

const MIN_BACKOFF: Duration = Duration::from_millis(10);
/// Time for the whole handshake, hello to confirm.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(1);
const OUTBOX_CAPACITY: usize = 1024;
/// Frame limit before a connection is authenticated: a hello is a few hundred bytes, and a
/// stranger must not make the node reserve a full frame.
const HANDSHAKE_FRAME_BYTES: usize = 4096;
/// Inbound connections that have not yet proved the session key.
pub const MAX_HANDSHAKES: usize = 64;
/// Authenticated inbound connections of one peer (the current one and its replacements).
pub const PER_PEER_CONNECTIONS: usize = 4;
/// Sockets of connections in their handshake, evicted ones included.
const HANDSHAKE_SOCKETS: usize = 2 * MAX_HANDSHAKES;

/// Descriptors the transport may hold at most with `peers` peers: every handshake socket,
/// every peer's inbound slots, one outbound connection per peer, and the listener.
pub fn max_descriptors(peers: usize) -> usize {
    HANDSHAKE_SOCKETS + peers * (PER_PEER_CONNECTIONS + 1) + 1
}

/// The sending side: one queue per peer, drained by that peer's dialer.
#[derive(Debug)]
pub struct Transport {
    outboxes: BTreeMap<NodeId, mpsc::Sender<Message>>,
    metrics: Arc<Metrics>,
}

impl Transport {
    /// Binds the listener on the network `N`, then starts accepting and dialing. Events
    /// go to `events`.
    pub async fn start<N: Net>(
        config: TransportConfig,
        key: Key,
        metrics: Arc<Metrics>,
        events: mpsc::Sender<NetEvent>,
    ) -> std::io::Result<Transport> {
        let listener = N::bind(config.listen).await?;
        let shared = Arc::new(Shared {
            config: config.clone(),
            key,
            metrics: metrics.clone(),
            events,
            current: Mutex::new(BTreeMap::new()),
            next_connection: AtomicU64::new(1),
            handshakes: Slots::new(MAX_HANDSHAKES),
            handshake_sockets: Arc::new(Semaphore::new(HANDSHAKE_SOCKETS)),
            per_peer: config
                .peers
                .keys()
                .map(|p| (*p, Arc::new(Semaphore::new(PER_PEER_CONNECTIONS))))
                .collect(),
        });
        tokio::spawn(accept_loop(listener, shared.clone()));
        let mut outboxes = BTreeMap::new();
        for (&peer, &addr) in &config.peers {
            let (tx, rx) = mpsc::channel(OUTBOX_CAPACITY);
            outboxes.insert(peer, tx);
            tokio::spawn(dial_loop::<N>(peer, addr, rx, shared.clone()));
        }
        Ok(Transport { outboxes, metrics })
    }

    /// Queues `msg` for `to`. A full queue drops it: the protocol copes with loss.
    pub fn send(&self, to: NodeId, msg: Message) {
        match self.outboxes.get(&to) {
            Some(outbox) if outbox.try_send(msg).is_ok() => {}
            _ => {
                self.metrics.frames_dropped.inc();
            }
        }
    }
}

struct Shared {
    config: TransportConfig,
    key: Key,
    metrics: Arc<Metrics>,
    events: mpsc::Sender<NetEvent>,
    /// The connection that currently speaks for each peer, and how to close it. Only its
    /// loss is a `nodedown`; a newer one replaces (and closes) it, as one connection per
    /// peer does in the system this comes from. Held across the `nodedown` send so that
    /// a loss is reported before the next connection's first message.
    current: Mutex<BTreeMap<NodeId, (u64, oneshot::Sender<()>)>>,
    next_connection: AtomicU64,
    /// Slots of connections in their handshake.
    handshakes: Slots,
    /// Sockets of connections in their handshake.
    handshake_sockets: Arc<Semaphore>,
    /// Each peer's authenticated inbound slots.
    per_peer: BTreeMap<NodeId, Arc<Semaphore>>,
}

/// A stream of the transport's network: what a connection reads and writes through.
trait Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> Stream for S {}

type Conn<S> = Framed<S, tokio_util::codec::LengthDelimitedCodec>;

// ---- sending ---------------------------------------------------------------------------

async fn dial_loop<N: Net>(
    peer: NodeId,
    addr: SocketAddr,
    mut rx: mpsc::Receiver<Message>,
    shared: Arc<Shared>,
) {
    let mut backoff = MIN_BACKOFF;
    loop {
        match dial::<N>(peer, addr, &shared).await {
            Ok((conn, session)) => {
                debug!(peer = peer.0, "connected");
                backoff = MIN_BACKOFF;
                let reason = send_loop(conn, session, &mut rx, &shared).await;
                debug!(peer = peer.0, %reason, "connection to peer ended");
                if rx.is_closed() {
                    return;
                }
            }
            Err(e) => debug!(peer = peer.0, error = %e, "dial failed"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(shared.config.max_backoff);
        // What queued while the peer was unreachable is stale: drop it, as a lost link would.
        while rx.try_recv().is_ok() {
            shared.metrics.frames_dropped.inc();
        }
    }
}

async fn dial<N: Net>(
    peer: NodeId,
    addr: SocketAddr,
    shared: &Shared,
) -> anyhow::Result<(Conn<N::Stream>, Key)> {
    let stream = tokio::time::timeout(HANDSHAKE_TIMEOUT, N::connect(addr)).await??;
    let mut conn = Framed::new(stream, codec(shared.config.max_frame_bytes));
    let mut next = async || {
        tokio::time::timeout(HANDSHAKE_TIMEOUT, conn.next())
            .await?
            .ok_or_else(|| anyhow::anyhow!("closed during handshake"))?
            .map_err(anyhow::Error::from)
    };
    let challenge = next().await?;
    let theirs = match open(&shared.key, &[context::CHALLENGE], &challenge)? {
        Envelope::Challenge { nonce } => decode_nonce(&nonce)?,
        other => return Err(FrameError::Unexpected(other.kind()).into()),
    };
    let nonce = random_bytes::<NONCE_LEN>();
    let hello = Envelope::Hello {
        from: shared.config.me.0,
        to: peer.0,
        nonce: hex::encode(nonce),
    };
    conn.send(Bytes::from(seal(
        &shared.key,
        &[context::HELLO, &theirs],
        &hello,
    )))
    .await?;
    let frame = tokio::time::timeout(HANDSHAKE_TIMEOUT, conn.next())
        .await?
        .ok_or_else(|| anyhow::anyhow!("closed during handshake"))??;
    match open(&shared.key, &[context::WELCOME, &nonce], &frame) {
        Ok(Envelope::Welcome { nonce: echoed }) if decode_nonce(&echoed)? == theirs => {}
        Ok(other) => return Err(FrameError::Unexpected(other.kind()).into()),
        Err(e) => {
            shared.metrics.rejected(e.label());
            warn!(peer = peer.0, error = %e, "refused welcome");
            return Err(e.into());
        }
    }
    let session = shared
        .key
        .session(shared.config.me.0, peer.0, &nonce, &theirs);
    Ok((conn, session))
}

async fn send_loop<S: Stream>(
    mut conn: Conn<S>,
    session: Key,
    rx: &mut mpsc::Receiver<Message>,
    shared: &Shared,
) -> String {
    let mut seq = 0u64;
    loop {
        tokio::select! {
            // In this order, so that a run is the same run again (a simulation replays it).
            biased;
            next = rx.recv() => {
                let Some(msg) = next else { return "node stopping".into() };
                let frame = seal(&session, &[context::DATA], &Envelope::Data { seq, msg });
                seq += 1;
                // A peer that stops reading (paused, cut off) must not block this queue for
                // ever: past the net-tick timeout the connection is given up.
                match tokio::time::timeout(shared.config.net_tick, conn.send(Bytes::from(frame))).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => {
                        shared.metrics.frames_dropped.inc();
                        return e.to_string();
                    }
                    Err(_) => {
                        shared.metrics.frames_dropped.inc();
                        return "peer stopped reading".into();
                    }
                }
                shared.metrics.frames_sent.inc();
            }
            // The listener sends nothing after its welcome: anything here is its close.
            _ = conn.next() => return "closed by peer".into(),
        }
    }
}

fn decode_nonce(hex_nonce: &str) -> Result<Vec<u8>, FrameError> {
    match hex::decode(hex_nonce) {
        Ok(bytes) if bytes.len() == NONCE_LEN => Ok(bytes),
        _ => Err(FrameError::Malformed("bad nonce".into())),
    }
}

// ---- receiving -------------------------------------------------------------------------

async fn accept_loop<L: Listener>(listener: L, shared: Arc<Shared>) {
    loop {
        match listener.accept().await {
            Ok((stream, remote)) => {
                let Ok(socket) = shared.handshake_sockets.clone().try_acquire_owned() else {
                    // Evicted connections have not closed yet: no room for another socket.
                    drop(stream);
                    shared.metrics.rejected("inbound_limit");
                    continue;
                };
                let (slot, evicted_oldest) = shared.handshakes.admit();
                if evicted_oldest {
                    shared.metrics.rejected("handshake_evicted");
                }
                let shared = shared.clone();
                tokio::spawn(async move {
                    let conn = Framed::new(stream, codec(HANDSHAKE_FRAME_BYTES));
                    receive(conn, slot, remote, socket, &shared).await;
                });
            }
            Err(e) => {
                // Out of descriptors, most likely: wait rather than spin.
                warn!(error = %e, "accept failed");
                tokio::time::sleep(MIN_BACKOFF).await;
            }
        }
    }
}

/// Why a connection was refused before it spoke for a peer.
fn refuse(shared: &Shared, remote: SocketAddr, error: &FrameError) {
    shared.metrics.rejected(error.label());
    warn!(%remote, error = %error, "refused frame; closing connection");
}

async fn receive<S: Stream>(
    mut conn: Conn<S>,
    slot: Slot,
    remote: SocketAddr,
    socket: tokio::sync::OwnedSemaphorePermit,
    shared: &Shared,
) {
    let id = shared.next_connection.fetch_add(1, Ordering::Relaxed);
    let handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake(&mut conn, remote, shared));
    let outcome = tokio::select! {
        // In this order, so that a run is the same run again (a simulation replays it).
        biased;
        outcome = handshake => outcome,
        _ = slot.evicted => {
            debug!(%remote, "handshake evicted by newer connections");
            shared.handshakes.release(slot.id);
            return;
        }
    };
    shared.handshakes.release(slot.id);
    let (peer, session) = match outcome {
        Ok(Some(authenticated)) => authenticated,
        Ok(None) => return,
        Err(_) => {
            shared.metrics.rejected("handshake_timeout");
            debug!(%remote, "handshake not completed in time");
            return;
        }
    };
    let Ok(_slot) = shared.per_peer[&peer].clone().try_acquire_owned() else {
        shared.metrics.rejected("peer_connection_limit");
        warn!(peer = peer.0, %remote, "refused connection: the peer has too many open");
        return;
    };
    // The socket now counts against the peer's own slots.
    drop(socket);
    conn.codec_mut()
        .set_max_frame_length(shared.config.max_frame_bytes);
    let mut expected = 0u64;
    // Heartbeats are nearly every frame: their counter is looked up once, not per frame.
    let heartbeats = shared
        .metrics
        .frames_received
        .get_or_create(&vec![("kind", "heartbeat".to_string())])
        .clone();
    // Set once this connection speaks for the peer: closed when a newer one replaces it.
    let mut replaced: Option<oneshot::Receiver<()>> = None;
    let clean = loop {
        let next = tokio::time::timeout(shared.config.net_tick, conn.next());
        let superseded = async {
            match replaced.as_mut() {
                Some(rx) => {
                    let _ = rx.await;
                }
                None => std::future::pending().await,
            }
        };
        let frame = tokio::select! {
            // In this order, so that a run is the same run again (a simulation replays it).
            biased;
            _ = superseded => {
                debug!(peer = peer.0, "connection replaced by a newer one");
                return;
            }
            next = next => match next {
                Err(_) => break false,
                Ok(None) => break true,
                Ok(Some(Err(e))) => {
                    // The codec refuses oversized frames with InvalidData.
                    if e.kind() == std::io::ErrorKind::InvalidData {
                        shared.metrics.rejected("oversized");
                    }
                    warn!(peer = peer.0, %remote, error = %e, "connection failed");
                    break true;
                }
                Ok(Some(Ok(frame))) => frame,
            },
        };
        let msg = match open(&session, &[context::DATA], &frame) {
            Ok(Envelope::Data { seq, msg }) if seq == expected => msg,
            Ok(Envelope::Data { seq, .. }) => {
                refuse(shared, remote, &FrameError::Sequence { got: seq, expected });
                break true;
            }
            Ok(other) => {
                refuse(shared, remote, &FrameError::Unexpected(other.kind()));
                break true;
            }
            Err(e) => {
                refuse(shared, remote, &e);
                break true;
            }
        };
        expected += 1;
        match msg {
            Message::Heartbeat { .. } => heartbeats.inc(),
            _ => shared
                .metrics
                .frames_received
                .get_or_create(&vec![("kind", msg.kind().to_string())])
                .inc(),
        };
        let event = NetEvent::Message { from: peer, msg };
        if replaced.is_none() {
            // Only a connection that proved the session key speaks for the peer. The lock
            // is held until its first message is queued, after any older loss.
            let (close, closed) = oneshot::channel();
            let mut current = shared.current.lock().await;
            if let Some((_, older)) = current.insert(peer, (id, close)) {
                let _ = older.send(());
            }
            replaced = Some(closed);
            info!(peer = peer.0, "peer connected");
            if shared.events.send(event).await.is_err() {
                return;
            }
            continue;
        }
        if shared.events.send(event).await.is_err() {
            return;
        }
    };
    let mut current = shared.current.lock().await;
    if current.get(&peer).is_some_and(|(c, _)| *c == id) {
        current.remove(&peer);
        let kind = if clean { "clean" } else { "unclean" };
        info!(peer = peer.0, kind, "nodedown");
        shared
            .metrics
            .nodedowns
            .get_or_create(&vec![("kind", kind.to_string())])
            .inc();
        let _ = shared.events.send(NetEvent::NodeDown { peer, clean }).await;
    }
}

/// The listener's side of the handshake: the peer and the session key once the dialer
/// proved it holds the secret now, or `None` (refused and counted).
async fn handshake<S: Stream>(
    conn: &mut Conn<S>,
    remote: SocketAddr,
    shared: &Shared,
) -> Option<(NodeId, Key)> {
    let nonce = random_bytes::<NONCE_LEN>();
    let challenge = Envelope::Challenge {
        nonce: hex::encode(nonce),
    };
    conn.send(Bytes::from(seal(
        &shared.key,
        &[context::CHALLENGE],
        &challenge,
    )))
    .await
    .ok()?;
    let frame = match conn.next().await {
        Some(Ok(frame)) => frame,
        Some(Err(e)) if e.kind() == std::io::ErrorKind::InvalidData => {
            // Larger than a hello can be.
            shared.metrics.rejected("oversized");
            warn!(%remote, error = %e, "refused frame; closing connection");
            return None;
        }
        _ => return None,
    };
    let known: BTreeSet<u16> = shared.config.peers.keys().map(|p| p.0).collect();
    let checked = match open(&shared.key, &[context::HELLO, &nonce], &frame) {
        Ok(Envelope::Hello { from, .. }) if !known.contains(&from) => {
            Err(FrameError::UnknownPeer(from))
        }
        Ok(Envelope::Hello { to, .. }) if to != shared.config.me.0 => {
            Err(FrameError::WrongNode(to))
        }
        Ok(Envelope::Hello { from, nonce, .. }) => decode_nonce(&nonce).map(|n| (from, n)),
        Ok(other) => Err(FrameError::Unexpected(other.kind())),
        Err(e) => Err(e),
    };
    let (from, theirs) = match checked {
        Ok(ok) => ok,
        Err(e) => {
            refuse(shared, remote, &e);
            return None;
        }
    };
    let welcome = Envelope::Welcome {
        nonce: hex::encode(nonce),
    };
    let frame = seal(&shared.key, &[context::WELCOME, &theirs], &welcome);
    conn.send(Bytes::from(frame)).await.ok()?;
    let session = shared
        .key
        .session(from, shared.config.me.0, &theirs, &nonce);
    Some((NodeId(from), session))
}
