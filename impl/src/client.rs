//! A small client of the admin API, for the CLI, the benchmark and the tests.

use crate::driver::{FailoverView, Status};
use serde::de::DeserializeOwned;
use std::net::SocketAddr;
use std::time::Duration;

/// An admin API client.
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    token: Option<String>,
}

/// The answer to a write: its status code and JSON body.
#[derive(Clone, Debug)]
pub struct Answer {
    /// HTTP status code.
    pub code: u16,
    /// The JSON body (`Null` when it was not JSON).
    pub body: serde_json::Value,
}

impl Client {
    /// A client that sends `token` (the admin or the read token) with every request.
    pub fn new(token: Option<String>) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_millis(500))
            .build()
            .expect("a plain HTTP client builds");
        Client { http, token }
    }

    fn request_get(&self, admin: SocketAddr, path: &str) -> reqwest::RequestBuilder {
        let request = self.http.get(format!("http://{admin}{path}"));
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// `GET path` as JSON; a refusal is an error.
    pub async fn get<T: DeserializeOwned>(
        &self,
        admin: SocketAddr,
        path: &str,
    ) -> anyhow::Result<T> {
        let response = self
            .request_get(admin, path)
            .timeout(Duration::from_millis(1000))
            .send()
            .await?
            .error_for_status()?;
        Ok(response.json().await?)
    }

    /// `GET /status`.
    pub async fn status(&self, admin: SocketAddr) -> anyhow::Result<Status> {
        self.get(admin, "/status").await
    }

    /// `GET /failovers`.
    pub async fn failovers(&self, admin: SocketAddr) -> anyhow::Result<Vec<FailoverView>> {
        self.get(admin, "/failovers").await
    }

    /// `GET /metrics`, as text.
    pub async fn metrics(&self, admin: SocketAddr) -> anyhow::Result<String> {
        Ok(self
            .request_get(admin, "/metrics")
            .send()
            .await?
            .text()
            .await?)
    }

    /// `POST path` with a JSON body (or none) and the admin token.
    pub async fn post(
        &self,
        admin: SocketAddr,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> anyhow::Result<Answer> {
        let mut request = self.http.post(format!("http://{admin}{path}"));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let code = response.status().as_u16();
        let text = response.text().await?;
        let body = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
        Ok(Answer { code, body })
    }
}
