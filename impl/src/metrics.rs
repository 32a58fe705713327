//! The node's Prometheus metrics. The transport, the driver and the API update them; `GET
//! /metrics` renders them in the text exposition format.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

/// Labels of a metric family.
pub type Labels = Vec<(&'static str, String)>;

/// Every metric of a node.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// The highest term this node knows.
    pub term: Gauge,
    /// The revision of its cluster config.
    pub revision: Gauge,
    /// 1 while this node acts as orchestrator.
    pub is_orchestrator: Gauge,
    /// The config's failover count (quota spent).
    pub failover_count: Gauge,
    /// Failovers this node committed.
    pub failovers_committed: Counter,
    /// Elections this node started.
    pub elections: Counter,
    /// Frames taken from peers, by message kind.
    pub frames_received: Family<Labels, Counter>,
    /// Frames sent to peers.
    pub frames_sent: Counter,
    /// Frames dropped because a peer's queue was full or its connection was down.
    pub frames_dropped: Counter,
    /// Frames refused, by reason (bad MAC, replay, unknown peer, oversized, ...).
    pub frames_rejected: Family<Labels, Counter>,
    /// `nodedown` notices, by kind (clean, unclean).
    pub nodedowns: Family<Labels, Counter>,
    /// Seconds since the last heartbeat of each peer.
    pub heartbeat_lag: Family<Labels, Gauge<f64, AtomicU64>>,
    /// Time to write the persistent state durably.
    pub persist_seconds: Histogram,
    /// Seconds the config this node holds has waited to be known committed (0: none waits).
    pub pending_age: Gauge<f64, AtomicU64>,
    /// Admin API requests, by endpoint and status code.
    pub admin_requests: Family<Labels, Counter>,
    /// Admin API connections refused before a request, by reason.
    pub admin_refused: Family<Labels, Counter>,
    /// On the committing node: from the detector's verdict to the failover's commit.
    pub detection_to_commit: Histogram,
    /// On every node: from the last message heard from a node to learning its failover
    /// committed (the fault, as this node saw it, to the outcome).
    pub silence_to_learned: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("failover");
        let term = Gauge::default();
        let revision = Gauge::default();
        let is_orchestrator = Gauge::default();
        let failover_count = Gauge::default();
        let failovers_committed = Counter::default();
        let elections = Counter::default();
        let frames_received = Family::default();
        let frames_sent = Counter::default();
        let frames_dropped = Counter::default();
        let frames_rejected = Family::default();
        let nodedowns = Family::default();
        let heartbeat_lag = Family::default();
        let persist_seconds = Histogram::new(exponential_buckets(0.0001, 2.0, 16));
        let pending_age = Gauge::<f64, AtomicU64>::default();
        let admin_requests = Family::default();
        let admin_refused = Family::default();
        // 10 ms to about 80 s.
        let detection_to_commit = Histogram::new(exponential_buckets(0.01, 2.0, 14));
        let silence_to_learned = Histogram::new(exponential_buckets(0.01, 2.0, 14));
        registry.register("term", "Highest term known", term.clone());
        registry.register(
            "config_revision",
            "Revision of the newest config known committed",
            revision.clone(),
        );
        registry.register(
            "is_orchestrator",
            "1 while this node acts as orchestrator",
            is_orchestrator.clone(),
        );
        registry.register(
            "failover_count",
            "Failovers counted against the quota in the newest committed config",
            failover_count.clone(),
        );
        registry.register(
            "failovers_committed",
            "Failovers this node committed",
            failovers_committed.clone(),
        );
        registry.register("elections", "Elections started", elections.clone());
        registry.register(
            "frames_received",
            "Authentic frames taken from peers",
            frames_received.clone(),
        );
        registry.register("frames_sent", "Frames sent to peers", frames_sent.clone());
        registry.register(
            "frames_dropped",
            "Frames dropped while a peer was unreachable or slow",
            frames_dropped.clone(),
        );
        registry.register(
            "frames_rejected",
            "Frames refused and not acted on",
            frames_rejected.clone(),
        );
        registry.register("nodedowns", "Connection losses reported", nodedowns.clone());
        registry.register(
            "heartbeat_lag_seconds",
            "Seconds since the last heartbeat of each peer",
            heartbeat_lag.clone(),
        );
        registry.register(
            "persist_seconds",
            "Time to write state durably",
            persist_seconds.clone(),
        );
        registry.register(
            "pending_proposal_age_seconds",
            "Seconds the held config has waited to be known committed (0 when none waits)",
            pending_age.clone(),
        );
        registry.register(
            "admin_requests",
            "Admin API requests by endpoint and status code",
            admin_requests.clone(),
        );
        registry.register(
            "admin_refused",
            "Admin API connections refused before a request, by reason",
            admin_refused.clone(),
        );
        registry.register(
            "detection_to_commit_seconds",
            "On the committing node: from the detector's verdict to the failover's commit",
            detection_to_commit.clone(),
        );
        registry.register(
            "silence_to_learned_seconds",
            "From the last message heard from a node to learning its failover committed",
            silence_to_learned.clone(),
        );
        Metrics {
            registry,
            term,
            revision,
            is_orchestrator,
            failover_count,
            failovers_committed,
            elections,
            frames_received,
            frames_sent,
            frames_dropped,
            frames_rejected,
            nodedowns,
            heartbeat_lag,
            persist_seconds,
            pending_age,
            admin_requests,
            admin_refused,
            detection_to_commit,
            silence_to_learned,
        }
    }

    /// Counts a refused frame.
    pub fn rejected(&self, reason: &str) {
        self.frames_rejected
            .get_or_create(&vec![("reason", reason.to_string())])
            .inc();
    }

    /// Counts an admin connection refused before a request.
    pub fn admin_refused(&self, reason: &str) {
        self.admin_refused
            .get_or_create(&vec![("reason", reason.to_string())])
            .inc();
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}
