//! The cluster secret and what is derived from it: handshake MACs, per-connection session
//! keys and the admin token. HMAC-SHA256 throughout.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::path::Path;

type HmacSha256 = Hmac<Sha256>;

const ADMIN_TOKEN: &[u8] = b"admin-token";
const READ_TOKEN: &[u8] = b"read-token";

/// Length of a MAC on the wire.
pub const MAC_LEN: usize = 32;

/// Length of a handshake nonce.
pub const NONCE_LEN: usize = 32;

/// A key for HMAC-SHA256: the cluster secret or a session key.
#[derive(Clone)]
pub struct Key(Vec<u8>);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(..)")
    }
}

/// The secret file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// It could not be read.
    #[error("cannot read cluster secret {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// It is too short to be a secret.
    #[error("cluster secret {0} is shorter than 16 bytes")]
    TooShort(String),
}

impl Key {
    /// Reads the cluster secret (surrounding whitespace ignored).
    pub fn load(path: &Path) -> Result<Self, SecretError> {
        let text = std::fs::read(path).map_err(|source| SecretError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let trimmed = text.trim_ascii();
        if trimmed.len() < 16 {
            return Err(SecretError::TooShort(path.display().to_string()));
        }
        Ok(Key(trimmed.to_vec()))
    }

    /// A key from raw bytes.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        Key(bytes.to_vec())
    }

    /// A fresh random secret, hex-encoded, for a new cluster.
    pub fn generate_hex() -> String {
        hex::encode(random_bytes::<32>())
    }

    fn mac(&self, parts: &[&[u8]]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes any key length");
        for part in parts {
            // Length-prefixed so that part boundaries cannot be shifted.
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac
    }

    /// The MAC of `parts`.
    pub fn sign(&self, parts: &[&[u8]]) -> [u8; MAC_LEN] {
        self.mac(parts).finalize().into_bytes().into()
    }

    /// Whether `tag` is the MAC of `parts` (in constant time).
    pub fn verify(&self, parts: &[&[u8]], tag: &[u8]) -> bool {
        self.mac(parts).verify_slice(tag).is_ok()
    }

    /// The key of one connection: fresh for every handshake, so frames recorded on one
    /// connection fail the MAC on any other.
    pub fn session(
        &self,
        dialer: u16,
        listener: u16,
        dialer_nonce: &[u8],
        listener_nonce: &[u8],
    ) -> Key {
        let tag = self.sign(&[
            b"session",
            &dialer.to_be_bytes(),
            &listener.to_be_bytes(),
            dialer_nonce,
            listener_nonce,
        ]);
        Key(tag.to_vec())
    }

    /// The admin API token of the cluster.
    pub fn admin_token(&self) -> String {
        hex::encode(self.sign(&[ADMIN_TOKEN]))
    }

    /// Whether `token` is the cluster's admin token (compared in constant time).
    pub fn is_admin_token(&self, token: &str) -> bool {
        hex::decode(token).is_ok_and(|tag| self.verify(&[ADMIN_TOKEN], &tag))
    }

    /// The token that reads the admin API but changes nothing (for dashboards, scrapers).
    pub fn read_token(&self) -> String {
        hex::encode(self.sign(&[READ_TOKEN]))
    }

    /// Whether `token` is the cluster's read token (compared in constant time).
    pub fn is_read_token(&self, token: &str) -> bool {
        hex::decode(token).is_ok_and(|tag| self.verify(&[READ_TOKEN], &tag))
    }
}

/// Random bytes from the operating system, or, inside a simulation, from its seeded
/// generator (so that a run replays exactly; see `seams::seed_randomness`).
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    if !crate::seams::seeded_random_fill(&mut bytes) {
        getrandom::fill(&mut bytes).expect("the operating system gives random bytes");
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_bind_key_and_every_part() {
        let key = Key::from_bytes(b"0123456789abcdef");
        let tag = key.sign(&[b"ab", b"c"]);
        assert!(key.verify(&[b"ab", b"c"], &tag));
        assert!(!key.verify(&[b"a", b"bc"], &tag), "boundaries are bound");
        assert!(!Key::from_bytes(b"0123456789abcdeX").verify(&[b"ab", b"c"], &tag));
    }

    #[test]
    fn admin_token_round_trips() {
        let key = Key::from_bytes(b"0123456789abcdef");
        assert!(key.is_admin_token(&key.admin_token()));
        assert!(!key.is_admin_token("00"));
        assert!(!key.is_admin_token("not hex"));
        assert!(!Key::from_bytes(b"fedcba9876543210").is_admin_token(&key.admin_token()));
        assert!(key.is_read_token(&key.read_token()));
        assert!(
            !key.is_admin_token(&key.read_token()),
            "reading is not writing"
        );
        assert!(!key.is_read_token(&key.admin_token()));
    }

    #[test]
    fn sessions_differ_per_handshake() {
        let key = Key::from_bytes(b"0123456789abcdef");
        let a = key.session(1, 2, &[1; 32], &[2; 32]);
        let b = key.session(1, 2, &[1; 32], &[3; 32]);
        assert_ne!(a.sign(&[b"x"]), b.sign(&[b"x"]));
    }
}
