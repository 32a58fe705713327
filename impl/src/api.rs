//! The admin HTTP API of a node (axum). `GET /health` is open; reads need the cluster's
//! read token or its admin token, writes the admin token (`Authorization: Bearer ...`).
//! Every refusal is a JSON `{"error": ...}` with a 4xx or 5xx code, counted by endpoint and
//! code and logged; every write is logged with what it changed. Writes become core admin
//! commands; the reply comes once the change is committed. How connections are limited and
//! timed out is [`crate::api_server`].

use crate::auth::Key;
use crate::driver::{AdminError, Command, NodeHandle};
use axum::body::Bytes;
use axum::extract::Request;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use failover_core::params::ticks_for;
use failover_core::{AdminCommand, AdminRefusal, SettingsChange};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tracing::info;

/// How long a write waits for its commit.
const COMMIT_WAIT: Duration = Duration::from_secs(5);

/// Longest time to answer one request, body included; past it the answer is a 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Refused requests are all counted, and logged at most once a second.
static REFUSED_REQUESTS: crate::logging::LogLimit = crate::logging::LogLimit::new();

/// Every endpoint, as the request counters name them (anything else counts as `other`).
const ENDPOINTS: [&str; 7] = [
    "/health",
    "/status",
    "/failovers",
    "/settings/autoFailover",
    "/settings/autoFailover/resetCount",
    "/controller/rebalance",
    "/metrics",
];

#[derive(Clone)]
struct Api {
    node: NodeHandle,
    key: Arc<Key>,
}

/// A refused request.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    orchestrator: Option<u16>,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            orchestrator: None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "error": self.message });
        if let Some(o) = self.orchestrator {
            body["orchestrator"] = json!(o);
        }
        (self.status, Json(body)).into_response()
    }
}

impl From<AdminError> for ApiError {
    fn from(e: AdminError) -> Self {
        let status = match &e {
            AdminError::Refused(AdminRefusal::NotOrchestrator(_)) => StatusCode::CONFLICT,
            AdminError::Refused(AdminRefusal::Busy) | AdminError::LostLeadership => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            AdminError::Refused(_) => StatusCode::UNPROCESSABLE_ENTITY,
        };
        let orchestrator = match &e {
            AdminError::Refused(AdminRefusal::NotOrchestrator(o)) => o.map(|n| n.0),
            _ => None,
        };
        ApiError {
            status,
            message: e.to_string(),
            orchestrator,
        }
    }
}

/// The router of a node's admin API.
pub fn router(node: NodeHandle, key: Key) -> Router {
    let api = Api {
        node,
        key: Arc::new(key),
    };
    let counters = api.node.metrics.clone();
    Router::new()
        .route("/health", get(health))
        .route("/status", get(status))
        .route("/failovers", get(failovers))
        .route("/settings/autoFailover", get(settings).post(set_settings))
        .route("/settings/autoFailover/resetCount", post(reset_count))
        .route("/controller/rebalance", post(rebalance))
        .route("/metrics", get(metrics))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such endpoint") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method not allowed here")
        })
        .with_state(api)
        .layer(axum::middleware::from_fn_with_state(counters, account))
}

/// Times out, counts and logs every request, and turns every refusal into a JSON error
/// (axum's own refusals, such as 413 for a body over the limit, are plain text).
async fn account(
    State(metrics): State<Arc<crate::metrics::Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let endpoint = ENDPOINTS
        .iter()
        .find(|e| **e == path)
        .map_or("other", |e| *e);
    let response = match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(StatusCode::REQUEST_TIMEOUT, "request not completed in time")
            .into_response(),
    };
    let code = response.status();
    metrics
        .admin_requests
        .get_or_create(&vec![
            ("endpoint", endpoint.to_string()),
            ("code", code.as_u16().to_string()),
        ])
        .inc();
    if !(code.is_client_error() || code.is_server_error()) {
        return response;
    }
    let (response, message) = json_error(response).await;
    if let Some(left_out) = REFUSED_REQUESTS.allow() {
        info!(%method, %path, code = code.as_u16(), error = %message, left_out, "admin request refused");
    }
    response
}

/// The refusal as a JSON error, and its message.
async fn json_error(response: Response) -> (Response, String) {
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    let is_json = parts
        .headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"application/json"));
    if is_json {
        let message = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_string))
            .unwrap_or_default();
        return (Response::from_parts(parts, bytes.into()), message);
    }
    let text = String::from_utf8_lossy(&bytes).trim().to_string();
    let message = if text.is_empty() {
        parts
            .status
            .canonical_reason()
            .unwrap_or("refused")
            .to_string()
    } else {
        text
    };
    let error = ApiError::new(parts.status, message.clone()).into_response();
    (error, message)
}

async fn health(State(api): State<Api>) -> impl IntoResponse {
    Json(json!({ "ok": true, "id": api.node.status.borrow().id }))
}

async fn status(State(api): State<Api>, headers: HeaderMap) -> Result<Response, ApiError> {
    api.authorize_read(&headers)?;
    Ok(Json(api.node.status.borrow().clone()).into_response())
}

async fn failovers(State(api): State<Api>, headers: HeaderMap) -> Result<Response, ApiError> {
    api.authorize_read(&headers)?;
    Ok(Json(api.node.failovers.lock().unwrap().clone()).into_response())
}

async fn metrics(State(api): State<Api>, headers: HeaderMap) -> Result<Response, ApiError> {
    api.authorize_read(&headers)?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        api.node.metrics.render(),
    )
        .into_response())
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SettingsView {
    enabled: bool,
    timeout_ms: u64,
    max_count: u32,
    can_abort_rebalance: bool,
    count: u32,
}

async fn settings(
    State(api): State<Api>,
    headers: HeaderMap,
) -> Result<Json<SettingsView>, ApiError> {
    api.authorize_read(&headers)?;
    let status = api.node.status.borrow().clone();
    let c = status.committed.ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "this node knows no committed config yet (it is rejoining); ask another node",
        )
    })?;
    Ok(Json(SettingsView {
        enabled: c.enabled,
        timeout_ms: c.timeout_ms,
        max_count: c.max_count,
        can_abort_rebalance: c.can_abort_rebalance,
        count: c.failover_count,
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SettingsRequest {
    enabled: Option<bool>,
    timeout_ms: Option<u64>,
    max_count: Option<u32>,
    can_abort_rebalance: Option<bool>,
}

async fn set_settings(
    State(api): State<Api>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    api.authorize(&headers)?;
    let change: SettingsRequest = parse(&body)?;
    let heartbeat_ms = api.node.heartbeat.as_millis() as u64;
    if change.timeout_ms.is_some_and(|ms| ms < heartbeat_ms) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("timeoutMs must be at least one heartbeat ({heartbeat_ms} ms)"),
        ));
    }
    let change = SettingsChange {
        enabled: change.enabled,
        timeout_ticks: change.timeout_ms.map(|ms| ticks_for(ms, heartbeat_ms)),
        max_count: change.max_count,
        can_abort_rebalance: change.can_abort_rebalance,
    };
    if change.is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "nothing to change: give enabled, timeoutMs, maxCount or canAbortRebalance",
        ));
    }
    // The core merges it with the settings of the config the change builds on: two partial
    // changes do not undo each other.
    api.admin(AdminCommand::ChangeSettings(change)).await
}

async fn reset_count(State(api): State<Api>, headers: HeaderMap) -> Result<Response, ApiError> {
    api.authorize(&headers)?;
    api.admin(AdminCommand::ResetCount).await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RebalanceRequest {
    action: RebalanceAction,
    duration_ms: Option<u64>,
}

#[derive(Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
enum RebalanceAction {
    Start,
    Stop,
}

async fn rebalance(
    State(api): State<Api>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    api.authorize(&headers)?;
    let request: RebalanceRequest = parse(&body)?;
    match (request.action, request.duration_ms) {
        (RebalanceAction::Start, Some(0)) | (RebalanceAction::Start, None) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "start needs durationMs of at least 1",
        )),
        (RebalanceAction::Start, Some(ms)) => {
            // One step is committed per tick: the length in steps is the length in ticks.
            let heartbeat_ms = api.node.heartbeat.as_millis() as u64;
            let steps = ticks_for(ms, heartbeat_ms);
            api.admin(AdminCommand::StartRebalance { steps }).await
        }
        (RebalanceAction::Stop, None) => api.admin(AdminCommand::StopRebalance).await,
        (RebalanceAction::Stop, Some(_)) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "stop takes no durationMs",
        )),
    }
}

/// Parses a JSON body; the error names the field at fault.
fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let mut json = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut json).map_err(|e| {
        let path = e.path().to_string();
        let at = if path == "." {
            String::new()
        } else {
            format!(" at `{path}`")
        };
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("bad request body{at}: {}", e.inner()),
        )
    })?;
    json.end()
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("bad request body: {e}")))?;
    Ok(value)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
}

impl Api {
    fn authorize(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let given = bearer(headers)
            .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "missing admin token"))?;
        if self.key.is_admin_token(given) {
            Ok(())
        } else {
            Err(ApiError::new(StatusCode::UNAUTHORIZED, "bad admin token"))
        }
    }

    /// Reads take the read token or the admin token.
    fn authorize_read(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let given = bearer(headers).ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "missing token (the cluster's read or admin token)",
            )
        })?;
        if self.key.is_read_token(given) || self.key.is_admin_token(given) {
            Ok(())
        } else {
            Err(ApiError::new(StatusCode::UNAUTHORIZED, "bad token"))
        }
    }

    /// Submits `command` and logs what it changed (or why it did not).
    async fn admin(&self, command: AdminCommand) -> Result<Response, ApiError> {
        let (reply, answer) = oneshot::channel();
        let what = format!("{command:?}");
        let outcome = self.submit(Command::Admin { command, reply }, answer).await;
        match &outcome {
            Ok(_) => info!(command = %what, "admin change committed"),
            Err(e) => info!(command = %what, error = %e.message, "admin change not committed"),
        }
        outcome
    }

    async fn submit(
        &self,
        command: Command,
        answer: oneshot::Receiver<Result<failover_core::Revision, AdminError>>,
    ) -> Result<Response, ApiError> {
        let unavailable = || ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "node is stopping");
        self.node
            .commands
            .send(command)
            .await
            .map_err(|_| unavailable())?;
        match tokio::time::timeout(COMMIT_WAIT, answer).await {
            Err(_) => Err(ApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                "proposed but not committed in time; it may still commit",
            )),
            Ok(Err(_)) => Err(unavailable()),
            Ok(Ok(Err(e))) => Err(e.into()),
            Ok(Ok(Ok(revision))) => {
                Ok(Json(json!({ "committed": true, "revision": revision })).into_response())
            }
        }
    }
}
