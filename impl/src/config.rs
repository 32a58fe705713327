//! The node's TOML config: who it is, where it listens, its peers, the design and the
//! timings. Parsing and validation name the offending field; nothing here decides anything
//! about failover: the timings become [`Params`] and [`Settings`] for the core.

use failover_core::params::ticks_for;
use failover_core::{Design, NodeId, Params, Settings};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Default largest frame a node accepts: far above any config, far below a memory problem.
pub const DEFAULT_MAX_FRAME_BYTES: usize = 1 << 20;

/// One node's config file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// This node's id.
    pub id: u16,
    /// This node's master priority (higher wins; ties go to the lower id).
    #[serde(default)]
    pub priority: u32,
    /// Address for the other nodes' connections.
    pub listen: SocketAddr,
    /// Address of the admin HTTP API.
    pub admin: SocketAddr,
    /// Where the node keeps its state.
    pub data_dir: PathBuf,
    /// `fenced` (default), `legacy` or `poc`.
    #[serde(default)]
    pub design: Design,
    /// File holding the cluster secret (hex or any text; at least 16 bytes).
    pub secret_file: PathBuf,
    /// Heartbeat interval: one detection tick.
    pub heartbeat_ms: u64,
    /// Auto-failover timeout.
    pub failover_timeout_ms: u64,
    /// Silence after which a connection counts as lost (`nodedown`, unclean).
    pub net_tick_timeout_ms: u64,
    /// Failovers allowed before the count is reset.
    #[serde(default = "one")]
    pub max_count: u32,
    /// `canAbortRebalance` of a new cluster: a failover stops a running rebalance in the
    /// same commit (when off, a running rebalance blocks failovers until it ends).
    #[serde(default = "yes")]
    pub can_abort_rebalance: bool,
    /// Silence after which a master candidate stops counting a node as up. Defaults to half
    /// the failover timeout, so that an election finishes before the failover is due.
    #[serde(default)]
    pub master_timeout_ms: Option<u64>,
    /// Largest frame accepted from a peer.
    #[serde(default = "default_max_frame")]
    pub max_frame_bytes: usize,
    /// The other members.
    pub peers: Vec<PeerConfig>,
}

/// A peer in [`NodeConfig::peers`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerConfig {
    /// Its id.
    pub id: u16,
    /// Its peer address.
    pub address: SocketAddr,
    /// Its master priority.
    #[serde(default)]
    pub priority: u32,
}

fn yes() -> bool {
    true
}

fn one() -> u32 {
    1
}

fn default_max_frame() -> usize {
    DEFAULT_MAX_FRAME_BYTES
}

/// A config that cannot be used, with the field at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The TOML is malformed, a field is missing, unknown or of the wrong type.
    #[error("config {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's words, which name the field and the line.
        message: String,
    },
    /// A field has a value that cannot work.
    #[error("config field `{field}`: {problem}")]
    Invalid {
        /// The field.
        field: String,
        /// What is wrong.
        problem: String,
    },
}

fn invalid(field: impl Into<String>, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        field: field.into(),
        problem: problem.into(),
    }
}

/// Why a cluster of `members` nodes running `design` can never fail a node over, if it
/// cannot (the rule is the core's).
pub fn no_failover_possible(design: Design, members: usize) -> Option<String> {
    if failover_core::quorum::failover_survives_one_loss(design, members) {
        return None;
    }
    let majority = failover_core::quorum::majority(members);
    Some(format!(
        "a {design} cluster of {members} node(s) can never fail a node over: a failover \
         needs a majority ({majority} of {members}), and once one node is lost only {} is \
         left; use 3 or more nodes",
        members.saturating_sub(1)
    ))
}

impl NodeConfig {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parses and validates config text; `path` only names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let config: NodeConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().replace('\n', " "),
        })?;
        let mut config = config;
        config.validate()?;
        // Relative paths are relative to the config file, not to where the node starts.
        if let Some(base) = path.parent() {
            config.data_dir = base.join(&config.data_dir);
            config.secret_file = base.join(&config.secret_file);
        }
        Ok(config)
    }

    /// Checks the values that parse but cannot work.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (field, value) in [
            ("heartbeat_ms", self.heartbeat_ms),
            ("failover_timeout_ms", self.failover_timeout_ms),
            ("net_tick_timeout_ms", self.net_tick_timeout_ms),
        ] {
            if value == 0 {
                return Err(invalid(field, "must be at least 1"));
            }
        }
        if self.failover_timeout_ms < self.heartbeat_ms {
            return Err(invalid(
                "failover_timeout_ms",
                "must be at least one heartbeat (heartbeat_ms)",
            ));
        }
        if self.net_tick_timeout_ms < 2 * self.heartbeat_ms {
            return Err(invalid(
                "net_tick_timeout_ms",
                "must be at least two heartbeats (heartbeat_ms), or live peers look lost",
            ));
        }
        if self.master_timeout_ms == Some(0) {
            return Err(invalid("master_timeout_ms", "must be at least 1"));
        }
        if self.max_count == 0 {
            return Err(invalid("max_count", "must be at least 1"));
        }
        if self.max_frame_bytes < 1024 {
            return Err(invalid("max_frame_bytes", "must be at least 1024"));
        }
        if self.listen == self.admin {
            return Err(invalid("admin", "must differ from `listen`"));
        }
        let mut ids = BTreeSet::from([self.id]);
        for (i, peer) in self.peers.iter().enumerate() {
            if !ids.insert(peer.id) {
                let what = if peer.id == self.id {
                    "is this node's own id"
                } else {
                    "appears twice"
                };
                return Err(invalid(
                    format!("peers[{i}].id"),
                    format!("{} {what}", peer.id),
                ));
            }
        }
        let mut addresses = BTreeSet::from([self.listen, self.admin]);
        for (i, peer) in self.peers.iter().enumerate() {
            if !addresses.insert(peer.address) {
                return Err(invalid(
                    format!("peers[{i}].address"),
                    format!("{} is used twice (or by this node)", peer.address),
                ));
            }
        }
        if self.peers.is_empty() {
            return Err(invalid("peers", "a cluster needs at least one peer"));
        }
        Ok(())
    }

    /// This node's id.
    pub fn node_id(&self) -> NodeId {
        NodeId(self.id)
    }

    /// Master liveness in ticks.
    pub fn master_ticks(&self) -> u32 {
        let ms = self
            .master_timeout_ms
            .unwrap_or(self.failover_timeout_ms / 2);
        ticks_for(ms, self.heartbeat_ms)
    }

    /// The core's static parameters.
    pub fn params(&self) -> Params {
        let members = self.peers.iter().map(|p| NodeId(p.id));
        let members = std::iter::once(self.node_id()).chain(members);
        let mut params = Params::new(self.node_id(), members, self.design, self.master_ticks())
            .expect("a validated config names this node and a master timeout of 1 tick or more")
            // The nodes' heartbeat periods drift against each other: a heartbeat that lands
            // just after a tick is late, not lost.
            .with_tolerated_misses(1)
            .with_priority(self.node_id(), self.priority);
        for p in &self.peers {
            params = params.with_priority(NodeId(p.id), p.priority);
        }
        params
    }

    /// The auto-failover settings a new cluster starts with.
    pub fn initial_settings(&self) -> Settings {
        Settings {
            enabled: true,
            timeout_ticks: ticks_for(self.failover_timeout_ms, self.heartbeat_ms),
            max_count: self.max_count,
            can_abort_rebalance: self.can_abort_rebalance,
        }
    }

    /// The peer with `id`, if it is one.
    pub fn peer(&self, id: NodeId) -> Option<&PeerConfig> {
        self.peers.iter().find(|p| p.id == id.0)
    }

    /// Renders the config as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("a config always serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
id = 1
listen = "127.0.0.1:7001"
admin = "127.0.0.1:8001"
data_dir = "/tmp/n1"
secret_file = "/tmp/secret"
heartbeat_ms = 100
failover_timeout_ms = 1000
net_tick_timeout_ms = 4000

[[peers]]
id = 2
address = "127.0.0.1:7002"
"#;

    fn parse(text: &str) -> Result<NodeConfig, ConfigError> {
        NodeConfig::parse(text, Path::new("node.toml"))
    }

    #[test]
    fn good_config_gives_params_in_ticks() {
        let config = parse(GOOD).unwrap();
        assert_eq!(config.design, Design::Fenced);
        assert_eq!(config.initial_settings().timeout_ticks, 10);
        assert_eq!(config.params().master_ticks, 5);
        assert_eq!(config.params().members.len(), 2);
    }

    #[test]
    fn relative_paths_follow_the_config_file() {
        let text = GOOD
            .replace("\"/tmp/n1\"", "\"data\"")
            .replace("\"/tmp/secret\"", "\"../secret\"");
        let config = NodeConfig::parse(&text, Path::new("/etc/cluster/n1/node.toml")).unwrap();
        assert_eq!(config.data_dir, Path::new("/etc/cluster/n1/data"));
        assert_eq!(config.secret_file, Path::new("/etc/cluster/n1/../secret"));
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (
                GOOD.replace("heartbeat_ms = 100", "heartbeat_ms = 0"),
                "heartbeat_ms",
            ),
            (
                GOOD.replace("heartbeat_ms = 100", "hearbeat_ms = 100"),
                "hearbeat_ms",
            ),
            (GOOD.replace("heartbeat_ms = 100\n", ""), "heartbeat_ms"),
            (GOOD.replace("id = 2", "id = 1"), "peers[0].id"),
            (GOOD.replace("\"127.0.0.1:7002\"", "\"nowhere\""), "address"),
            (
                GOOD.replace("id = 1\n", "id = 1\ndesign = \"raft\"\n"),
                "raft",
            ),
            (
                GOOD.replace("net_tick_timeout_ms = 4000", "net_tick_timeout_ms = -1"),
                "net_tick_timeout_ms",
            ),
        ];
        for (text, field) in cases {
            let err = parse(&text).unwrap_err().to_string();
            assert!(err.contains(field), "{err:?} should name {field}");
        }
    }
}
