//! Durable state: the core's [`Persistent`], written atomically (temp file, fsync, rename,
//! fsync of the directory) with a SHA-256 checksum. A missing file means a new node; a file
//! that is corrupt, truncated or another node's is an error, never a blank start.
//!
//! Beside it, the newest commit this node knows of (`committed.json`, same format), so that
//! a restarted node's status shows a committed config rather than its last proposal. It
//! only reports: losing it loses no promise.

use crate::seams::{Disk, RealDisk};
use failover_core::{Commit, NodeId, Persistent};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const MAGIC: &str = "failover-state v1";
const FILE: &str = "state.json";
const COMMITTED_FILE: &str = "committed.json";

/// The state file of one node.
#[derive(Debug, Clone)]
pub struct Storage {
    disk: Arc<dyn Disk>,
    dir: PathBuf,
    node: NodeId,
}

/// Why the state cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The file system refused.
    #[error("state {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not what this node wrote.
    #[error("state file {path} is unusable: {problem}; refusing to start blank (move it away to start this node as new)")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
}

#[derive(Serialize, Deserialize)]
struct Body<T> {
    node: NodeId,
    state: T,
}

impl Storage {
    /// The storage of `node` in `dir` (created if missing) on the real file system.
    pub fn open(dir: &Path, node: NodeId) -> Result<Self, StorageError> {
        Storage::open_on(Arc::new(RealDisk), dir, node)
    }

    /// The storage of `node` in `dir` (created if missing) on `disk`.
    pub fn open_on(disk: Arc<dyn Disk>, dir: &Path, node: NodeId) -> Result<Self, StorageError> {
        let io = |source| StorageError::Io {
            path: dir.to_path_buf(),
            source,
        };
        if !disk.exists(dir) {
            disk.create_dir_all(dir).map_err(io)?;
            // The new directory's entry must be durable too, or a crash can lose the state
            // file with it, and a node that forgot its promises could vote twice.
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                disk.sync_dir(parent).map_err(io)?;
            }
        }
        Ok(Storage {
            disk,
            dir: dir.to_path_buf(),
            node,
        })
    }

    /// The state file's path.
    pub fn path(&self) -> PathBuf {
        self.dir.join(FILE)
    }

    /// The last state written, or `None` for a node that never wrote one.
    pub fn load(&self) -> Result<Option<Persistent>, StorageError> {
        self.read(FILE)
    }

    /// Writes `state` durably; when this returns, a crash cannot lose it.
    pub fn save(&self, state: &Persistent) -> Result<(), StorageError> {
        self.write(FILE, state)
    }

    /// The newest commit this node recorded, if any.
    pub fn load_committed(&self) -> Result<Option<Commit>, StorageError> {
        self.read(COMMITTED_FILE)
    }

    /// Records `commit` as the newest this node knows of.
    pub fn save_committed(&self, commit: &Commit) -> Result<(), StorageError> {
        self.write(COMMITTED_FILE, commit)
    }

    fn read<T: serde::de::DeserializeOwned>(&self, file: &str) -> Result<Option<T>, StorageError> {
        let path = self.dir.join(file);
        let bytes = match self.disk.read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(StorageError::Io { path, source }),
        };
        let corrupt = |problem: &str| StorageError::Corrupt {
            path: path.clone(),
            problem: problem.to_string(),
        };
        let text = std::str::from_utf8(&bytes).map_err(|_| corrupt("not text"))?;
        let (header, body) = text
            .split_once('\n')
            .ok_or_else(|| corrupt("no header line"))?;
        let sum = header
            .strip_prefix(MAGIC)
            .and_then(|rest| rest.strip_prefix(" sha256="))
            .ok_or_else(|| corrupt("unknown header"))?;
        if hex::encode(Sha256::digest(body.as_bytes())) != sum {
            return Err(corrupt("checksum mismatch (truncated or altered)"));
        }
        let body: Body<T> = serde_json::from_str(body).map_err(|e| corrupt(&e.to_string()))?;
        if body.node != self.node {
            return Err(corrupt(&format!(
                "written by node {}, not {}",
                body.node, self.node
            )));
        }
        Ok(Some(body.state))
    }

    fn write<T: Serialize>(&self, file: &str, state: &T) -> Result<(), StorageError> {
        let body = serde_json::to_string(&Body {
            node: self.node,
            state,
        })
        .expect("state always serialises");
        let sum = hex::encode(Sha256::digest(body.as_bytes()));
        let tmp = self.dir.join(format!("{file}.tmp"));
        let path = self.dir.join(file);
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| StorageError::Io { path, source }
        };
        let bytes = format!("{MAGIC} sha256={sum}\n{body}");
        self.disk
            .write_synced(&tmp, bytes.as_bytes())
            .map_err(io(&tmp))?;
        self.disk.rename(&tmp, &path).map_err(io(&path))?;
        self.disk.sync_dir(&self.dir).map_err(io(&self.dir))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use failover_core::{Design, Message, Node, Params, Settings};
    use std::fs;

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("failover-storage-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    /// A state that differs from a new one: a vote promised term 7.
    fn state() -> Persistent {
        let params = Params::new(NodeId(1), [NodeId(1), NodeId(2)], Design::Fenced, 1).unwrap();
        let mut node = Node::bootstrap(params, Settings::default());
        let mut ready = node
            .receive(NodeId(2), Message::RequestVote { term: 7 })
            .unwrap();
        let state = ready.take_persist().expect("a vote is persisted");
        assert_eq!(state.promised(), 7);
        state
    }

    #[test]
    fn round_trip_and_missing_file() {
        let dir = temp_dir("roundtrip");
        let storage = Storage::open(&dir, NodeId(1)).unwrap();
        assert_eq!(storage.load().unwrap(), None);
        storage.save(&state()).unwrap();
        assert_eq!(storage.load().unwrap(), Some(state()));
        assert!(!dir.join("state.json.tmp").exists());
    }

    #[test]
    fn corruption_truncation_and_foreign_files_are_refused() {
        let dir = temp_dir("corrupt");
        let storage = Storage::open(&dir, NodeId(1)).unwrap();
        storage.save(&state()).unwrap();
        let good = fs::read(storage.path()).unwrap();
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (good[..good.len() - 5].to_vec(), "checksum"),
            (
                good.iter()
                    .map(|b| if *b == b'7' { b'8' } else { *b })
                    .collect(),
                "checksum",
            ),
            (b"garbage".to_vec(), "header"),
            (Vec::new(), "header"),
        ];
        for (bytes, expected) in cases {
            fs::write(storage.path(), bytes).unwrap();
            let err = storage.load().unwrap_err().to_string();
            assert!(err.contains(expected), "{err}");
        }
        fs::write(storage.path(), &good).unwrap();
        let other = Storage::open(&dir, NodeId(2)).unwrap();
        let err = other.load().unwrap_err().to_string();
        assert!(err.contains("written by"), "{err}");
    }
}
