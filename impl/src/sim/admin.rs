//! The control host's admin client: one HTTP request over the simulated network to the
//! orchestrator, found by asking the nodes in turn (a node that is not the orchestrator
//! answers 409 and names the one it knows; a failed-over node refuses with 422; a node
//! busy committing answers 503 and is asked again shortly).

use super::schedule::AdminRequest;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::time::Duration;

/// How long one attempt may take (a paused or cut-off node never answers).
const ATTEMPT: Duration = Duration::from_secs(2);

fn request_of(request: AdminRequest) -> (&'static str, String) {
    match request {
        AdminRequest::StartRebalance { ms } => (
            "/controller/rebalance",
            format!(r#"{{"action":"start","durationMs":{ms}}}"#),
        ),
        AdminRequest::StopRebalance => ("/controller/rebalance", r#"{"action":"stop"}"#.into()),
        AdminRequest::ResetCount => ("/settings/autoFailover/resetCount", String::new()),
        AdminRequest::SetEnabled(on) => {
            ("/settings/autoFailover", format!(r#"{{"enabled":{on}}}"#))
        }
        AdminRequest::SetCanAbortRebalance(on) => (
            "/settings/autoFailover",
            format!(r#"{{"canAbortRebalance":{on}}}"#),
        ),
    }
}

/// Sends `request` to the orchestrator among hosts `n1..=n{nodes}`; the outcome in words
/// (the status code and body of the last answer, or why there was none).
pub async fn send(nodes: u16, port: u16, token: &str, request: AdminRequest) -> String {
    let (path, body) = request_of(request);
    let mut outcome = String::from("no node answered");
    let mut tried = Vec::new();
    let mut next = Some(1);
    let mut retries = 3;
    while let Some(node) = next.take() {
        tried.push(node);
        let addr = SocketAddr::new(turmoil::lookup(format!("n{node}")), port);
        let answer = tokio::time::timeout(ATTEMPT, post(addr, path, token, &body)).await;
        let hint = match answer {
            Ok(Ok((409, text))) => {
                let hint = serde_json::from_str::<serde_json::Value>(&text)
                    .ok()
                    .and_then(|v| v["orchestrator"].as_u64())
                    .map(|o| o as u16);
                outcome = format!("n{node}: 409 {text}");
                hint
            }
            Ok(Ok((422, text))) if text.contains("failed over") => {
                outcome = format!("n{node}: 422 {text}");
                None
            }
            Ok(Ok((503, text))) if retries > 0 => {
                retries -= 1;
                tokio::time::sleep(Duration::from_millis(300)).await;
                tried.pop();
                outcome = format!("n{node}: 503 {text}");
                Some(node)
            }
            Ok(Ok((code, text))) => return format!("n{node}: {code} {text}"),
            Ok(Err(e)) => {
                outcome = format!("n{node}: {e}");
                None
            }
            Err(_) => {
                outcome = format!("n{node}: no answer in {ATTEMPT:?}");
                None
            }
        };
        next = hint
            .filter(|h| !tried.contains(h))
            .or_else(|| (1..=nodes).find(|n| !tried.contains(n)));
    }
    outcome
}

async fn post(
    addr: SocketAddr,
    path: &str,
    token: &str,
    body: &str,
) -> Result<(u16, String), String> {
    let stream = turmoil::net::TcpStream::connect(addr)
        .await
        .map_err(|e| e.to_string())?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    let request = hyper::Request::post(path)
        .header("host", addr.to_string())
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let code = response.status().as_u16();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((code, String::from_utf8_lossy(&bytes).into_owned()))
}
