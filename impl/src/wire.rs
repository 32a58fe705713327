//! Frames between nodes. Each TCP frame is length-delimited (a big-endian `u32` length,
//! capped) and carries `MAC ‖ JSON body`; the MAC is checked before the body is parsed.
//!
//! A connection carries frames one way, from the node that dialed to the one that
//! listened, after a handshake in which each side contributes a fresh nonce:
//! 1. the listener sends `Challenge { nonce }` as soon as it accepts;
//! 2. the dialer answers `Hello { from, to, nonce }`, MAC'd with the cluster secret *and the
//!    listener's nonce*: it proves the dialer holds the secret now, so a `Hello` captured on
//!    the wire is useless on any other connection (it fails the MAC);
//! 3. the listener answers `Welcome { nonce }`, MAC'd with the secret and the dialer's
//!    nonce: the dialer knows it reached a member, not a replay;
//! 4. then `Data { seq, msg }` frames, MAC'd with a session key derived from both nonces,
//!    with `seq` counting from 0. A frame recorded on another connection fails the MAC; one
//!    replayed on the same connection fails the sequence check.

use crate::auth::{Key, MAC_LEN};
use failover_core::Message;
use serde::{Deserialize, Serialize};
use tokio_util::codec::LengthDelimitedCodec;

/// What a frame's body says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Envelope {
    /// The listener's fresh nonce, sent first.
    Challenge {
        /// The listener's nonce, hex.
        nonce: String,
    },
    /// The dialer names itself and the node it dialed.
    Hello {
        /// The dialer.
        from: u16,
        /// The node it meant to reach.
        to: u16,
        /// The dialer's fresh nonce, hex.
        nonce: String,
    },
    /// The listener's answer.
    Welcome {
        /// The listener's nonce again, hex.
        nonce: String,
    },
    /// One protocol message.
    Data {
        /// Position on this connection, from 0.
        seq: u64,
        /// The message for the core.
        msg: Message,
    },
}

/// Why a frame was refused. Every refusal is logged and counted, never acted on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Shorter than a MAC.
    #[error("frame shorter than its MAC")]
    Truncated,
    /// The MAC does not match: forged, corrupted, or recorded on another connection.
    #[error("bad MAC")]
    BadMac,
    /// Authentic but not a body this side understands.
    #[error("malformed body: {0}")]
    Malformed(String),
    /// An authentic frame out of place (a second hello, data before the handshake).
    #[error("unexpected {0} frame")]
    Unexpected(&'static str),
    /// A `Data` frame out of sequence: replayed or dropped on the way.
    #[error("sequence {got}, expected {expected} (replayed frame)")]
    Sequence {
        /// The frame's number.
        got: u64,
        /// The number due.
        expected: u64,
    },
    /// A hello from a node that is not a peer.
    #[error("unknown node {0}")]
    UnknownPeer(u16),
    /// A hello meant for another node.
    #[error("hello addressed to node {0}")]
    WrongNode(u16),
}

impl FrameError {
    /// A short label for metrics.
    pub fn label(&self) -> &'static str {
        match self {
            FrameError::Truncated => "truncated",
            FrameError::BadMac => "bad_mac",
            FrameError::Malformed(_) => "malformed",
            FrameError::Unexpected(_) => "unexpected",
            FrameError::Sequence { .. } => "replayed",
            FrameError::UnknownPeer(_) => "unknown_peer",
            FrameError::WrongNode(_) => "wrong_node",
        }
    }
}

impl Envelope {
    /// A short name for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Envelope::Challenge { .. } => "challenge",
            Envelope::Hello { .. } => "hello",
            Envelope::Welcome { .. } => "welcome",
            Envelope::Data { .. } => "data",
        }
    }
}

/// The MAC context of each frame kind.
pub mod context {
    /// Challenge frames.
    pub const CHALLENGE: &[u8] = b"challenge";
    /// Hello frames (with the listener's nonce after it).
    pub const HELLO: &[u8] = b"hello";
    /// Welcome frames (with the dialer's nonce after it).
    pub const WELCOME: &[u8] = b"welcome";
    /// Data frames.
    pub const DATA: &[u8] = b"data";
}

/// Serialises and MACs `envelope` under `key` and `context`.
pub fn seal(key: &Key, context: &[&[u8]], envelope: &Envelope) -> Vec<u8> {
    let body = serde_json::to_vec(envelope).expect("envelopes always serialise");
    let mut parts: Vec<&[u8]> = context.to_vec();
    parts.push(&body);
    let mut frame = key.sign(&parts).to_vec();
    frame.extend_from_slice(&body);
    frame
}

/// Checks the MAC of `frame` under `key` and `context`, then parses it.
pub fn open(key: &Key, context: &[&[u8]], frame: &[u8]) -> Result<Envelope, FrameError> {
    if frame.len() < MAC_LEN {
        return Err(FrameError::Truncated);
    }
    let (tag, body) = frame.split_at(MAC_LEN);
    let mut parts: Vec<&[u8]> = context.to_vec();
    parts.push(body);
    if !key.verify(&parts, tag) {
        return Err(FrameError::BadMac);
    }
    serde_json::from_slice(body).map_err(|e| FrameError::Malformed(e.to_string()))
}

/// The length-delimited codec with the frame limit.
pub fn codec(max_frame_bytes: usize) -> LengthDelimitedCodec {
    LengthDelimitedCodec::builder()
        .max_frame_length(max_frame_bytes)
        .new_codec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_frames_open_only_under_their_key_and_context() {
        let key = Key::from_bytes(b"0123456789abcdef");
        let data = Envelope::Data {
            seq: 3,
            msg: Message::RequestVote { term: 2 },
        };
        let frame = seal(&key, &[context::DATA], &data);
        assert_eq!(open(&key, &[context::DATA], &frame), Ok(data));
        assert_eq!(
            open(&key, &[context::HELLO], &frame),
            Err(FrameError::BadMac)
        );
        let other = Key::from_bytes(b"fedcba9876543210");
        assert_eq!(
            open(&other, &[context::DATA], &frame),
            Err(FrameError::BadMac)
        );
        let mut flipped = frame.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert_eq!(
            open(&key, &[context::DATA], &flipped),
            Err(FrameError::BadMac)
        );
        assert_eq!(
            open(&key, &[context::DATA], &frame[..10]),
            Err(FrameError::Truncated)
        );
    }

    #[test]
    fn authentic_garbage_is_malformed() {
        let key = Key::from_bytes(b"0123456789abcdef");
        let mut frame = key.sign(&[context::DATA, b"{not json"]).to_vec();
        frame.extend_from_slice(b"{not json");
        assert!(matches!(
            open(&key, &[context::DATA], &frame),
            Err(FrameError::Malformed(_))
        ));
    }
}
