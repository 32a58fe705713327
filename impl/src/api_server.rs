//! How the admin API is served, so that no client can take the node down or lock
//! operators out: at most [`MAX_CONNECTIONS`] connections at once, a new one evicting the
//! oldest (an operator's connection always gets in; a flood only churns), request headers
//! due within [`HEADER_TIMEOUT`] (which also closes idle keep-alive connections), every
//! request answered within [`REQUEST_TIMEOUT`](crate::api::REQUEST_TIMEOUT), and the
//! sockets capped ([`max_descriptors`]). Evictions, socket refusals and broken connections
//! are counted in `failover_admin_refused_total{reason}` and logged at most once a second.

use crate::logging::LogLimit;
use crate::metrics::Metrics;
use crate::seams::Listener;
use crate::slots::Slots;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tracing::warn;

/// Admin connections served at once.
pub const MAX_CONNECTIONS: usize = 64;

/// Sockets the admin API may hold: served connections, and evicted ones until their task
/// closes them.
const SOCKETS: usize = 2 * MAX_CONNECTIONS;

/// Time a client has to send a request's headers, on a new or an idle connection.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(3);

/// Descriptors the admin API may hold at most, its listener included.
pub fn max_descriptors() -> usize {
    SOCKETS + 1
}

static REFUSALS: LogLimit = LogLimit::new();

fn refused(metrics: &Metrics, reason: &str) {
    metrics.admin_refused(reason);
    if let Some(left_out) = REFUSALS.allow() {
        warn!(reason, left_out, "admin connection refused or closed");
    }
}

/// Serves `app` on `listener` until the process ends.
pub async fn serve<L: Listener>(listener: L, app: Router, metrics: Arc<Metrics>) {
    let sockets = Arc::new(Semaphore::new(SOCKETS));
    let slots = Arc::new(Slots::new(MAX_CONNECTIONS));
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of descriptors, most likely: wait rather than spin.
                warn!(error = %e, "admin accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(socket) = sockets.clone().try_acquire_owned() else {
            drop(stream);
            refused(&metrics, "socket_limit");
            continue;
        };
        let (slot, evicted_oldest) = slots.admit();
        if evicted_oldest {
            refused(&metrics, "evicted");
        }
        let service = TowerToHyperService::new(app.clone());
        let (slots, metrics) = (slots.clone(), metrics.clone());
        tokio::spawn(async move {
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT);
            let connection = http.serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                // In this order, so that a run is the same run again (a simulation replays it).
                biased;
                outcome = connection => {
                    if let Err(e) = outcome {
                        let reason = if e.is_timeout() { "header_timeout" } else { "broken" };
                        refused(&metrics, reason);
                    }
                }
                _ = slot.evicted => {}
            }
            slots.release(slot.id);
            drop(socket);
        });
    }
}
