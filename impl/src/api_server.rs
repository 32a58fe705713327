//! How the admin API is served, so that no client can take the node down: at most
//! [`MAX_CONNECTIONS`] connections at once (more are closed at once, counted, and logged
//! once a second), request headers must arrive within [`HEADER_TIMEOUT`] (which also closes
//! idle keep-alive connections), and every request is answered within
//! [`REQUEST_TIMEOUT`](crate::api::REQUEST_TIMEOUT).

use crate::metrics::Metrics;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tracing::warn;

/// Admin connections open at once.
pub const MAX_CONNECTIONS: usize = 64;

/// Time a client has to send a request's headers, on a new or an idle connection.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(3);

/// Serves `app` on `listener` until the process ends.
pub async fn serve(listener: TcpListener, app: Router, metrics: Arc<Metrics>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut refused = RefusalLog::default();
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
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            drop(stream);
            metrics.admin_refused("connection_limit");
            refused.note();
            continue;
        };
        let service = TowerToHyperService::new(app.clone());
        tokio::spawn(async move {
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT);
            let _ = http.serve_connection(TokioIo::new(stream), service).await;
            drop(permit);
        });
    }
}

/// Refused connections, logged at most once a second with their count: a flood must not
/// become a flood of log lines too.
#[derive(Default)]
struct RefusalLog {
    unlogged: u64,
    last: Option<Instant>,
}

impl RefusalLog {
    fn note(&mut self) {
        self.unlogged += 1;
        if self
            .last
            .is_none_or(|at| at.elapsed() >= Duration::from_secs(1))
        {
            warn!(
                refused = self.unlogged,
                limit = MAX_CONNECTIONS,
                "admin connections refused: too many open"
            );
            self.unlogged = 0;
            self.last = Some(Instant::now());
        }
    }
}
