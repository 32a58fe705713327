//! `failover-impl`: a real cluster node driven by the verified `failover-core`, and the tools
//! to run, break and measure a local cluster. The core decides; this crate moves bytes,
//! keeps time, persists state and reports.
//!
//! - [`config`]: the node's TOML config, validated with the field at fault named.
//! - [`auth`]: the cluster secret, HMAC-SHA256, session keys, the admin token.
//! - [`wire`]: length-delimited, MAC'd frames and the handshake.
//! - [`transport`]: TCP to every peer with reconnect and backoff; `nodedown` when a
//!   connection closes (clean) or stays silent past the net-tick timeout (unclean).
//! - [`storage`]: atomic, checksummed persistence of the core's state.
//! - [`driver`]: the task that feeds the core and carries out its `Ready`: persist, then send.
//! - [`api`]: the admin HTTP API, served by [`api_server`] (connection limit, timeouts);
//!   [`metrics`]: Prometheus metrics; [`logging`]: tracing.
//! - [`slots`]: connection slots where a newcomer evicts the oldest (handshakes, admin).
//! - [`seams`]: the network, disk and wall clock a node runs on, real or simulated.
//! - [`node`]: one node put together on its seams.
//! - `sim` (feature `sim`, on by default): the real node in a deterministic simulation,
//!   through fault schedules drawn from seeds, with its committed histories checked.
//! - [`cluster`], [`client`], [`mod@bench`]: local clusters, fault injection and the benchmark.

pub mod api;
pub mod api_server;
pub mod auth;
pub mod bench;
pub mod client;
pub mod cluster;
pub mod config;
pub mod driver;
pub mod logging;
pub mod metrics;
pub mod node;
pub mod seams;
#[cfg(feature = "sim")]
pub mod sim;
pub mod slots;
pub mod storage;
pub mod transport;
pub mod wire;
