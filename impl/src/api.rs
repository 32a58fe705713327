//! The admin HTTP API of a node (axum). Reads are open; writes need the cluster's admin
//! token (`Authorization: Bearer ...`). Every refusal is a JSON `{"error": ...}` with a 4xx
//! or 5xx code. Writes become core admin commands; the reply comes once the change is
//! committed.

use crate::auth::Key;
use crate::driver::{AdminError, Command, NodeHandle};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
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

/// How long a write waits for its commit.
const COMMIT_WAIT: Duration = Duration::from_secs(5);

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
    Router::new()
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
}

async fn status(State(api): State<Api>) -> impl IntoResponse {
    Json(api.node.status.borrow().clone())
}

async fn failovers(State(api): State<Api>) -> impl IntoResponse {
    Json(api.node.failovers.lock().unwrap().clone())
}

async fn metrics(State(api): State<Api>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        api.node.metrics.render(),
    )
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

async fn settings(State(api): State<Api>) -> Result<Json<SettingsView>, ApiError> {
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

impl Api {
    fn authorize(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "missing admin token"))?;
        if self.key.is_admin_token(given) {
            Ok(())
        } else {
            Err(ApiError::new(StatusCode::UNAUTHORIZED, "bad admin token"))
        }
    }

    async fn admin(&self, command: AdminCommand) -> Result<Response, ApiError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Command::Admin { command, reply }, answer).await
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
