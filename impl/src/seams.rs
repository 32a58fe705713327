//! What a node runs on, as small seams with a real and a simulated side: the network
//! ([`Net`]: tokio's TCP, or turmoil's simulated TCP), the disk ([`Disk`]: the file system,
//! or turmoil's, which loses what was written but not synced when its host crashes), and
//! the wall clock ([`unix_ms`]). Monotonic time is tokio's everywhere (`tokio::time`),
//! which turmoil simulates; nothing in a node reads `std::time::Instant`. A simulation also
//! hands the node a [`Journal`] that records every core step, and a pause switch (a
//! stopped process: no tick, no input).
//!
//! The node's code is the same on both sides: [`crate::node::serve`] takes the seams.

pub use failover_core::{Entry, StartKind, StartRecord, StepRecord};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;

/// Where a driver reports every start and every step it carried out, beside its logs.
pub trait Journal: Send + Sync {
    /// The node came up as `record` says.
    fn start(&self, record: StartRecord);
    /// `record` was carried out.
    fn step(&self, record: StepRecord);
}

/// A journal in a file, one JSON [`Entry`] per line, written through on every entry (a
/// node started with `--journal FILE`): what `failover-model validate` reads.
pub struct FileJournal(std::sync::Mutex<std::io::BufWriter<std::fs::File>>);

impl FileJournal {
    /// Appends to `path`, creating it if needed.
    pub fn append(path: &Path) -> io::Result<Self> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(FileJournal(std::sync::Mutex::new(std::io::BufWriter::new(
            file,
        ))))
    }

    fn write(&self, entry: &Entry) {
        use std::io::Write;
        let mut out = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let line = serde_json::to_string(entry).expect("journal entries serialise");
        // A journal is a debugging aid: a full disk must not stop the node.
        if writeln!(out, "{line}").and_then(|_| out.flush()).is_err() {
            tracing::warn!("cannot write the journal");
        }
    }
}

impl Journal for FileJournal {
    fn start(&self, record: StartRecord) {
        self.write(&Entry::Start(record));
    }

    fn step(&self, record: StepRecord) {
        self.write(&Entry::Step(record));
    }
}

/// Everything a node runs on besides its network.
#[derive(Clone)]
pub struct Env {
    /// Where its state is persisted.
    pub disk: Arc<dyn Disk>,
    /// Where its steps are reported, if anywhere.
    pub journal: Option<Arc<dyn Journal>>,
    /// While this says `true` the node is stopped: it ticks and reads nothing, as a
    /// process stopped by SIGSTOP (a simulation's pause).
    pub paused: Option<watch::Receiver<bool>>,
}

impl Env {
    /// The operating system's disk, no journal, never paused.
    pub fn real() -> Self {
        Env {
            disk: Arc::new(RealDisk),
            journal: None,
            paused: None,
        }
    }
}

/// Milliseconds since the Unix epoch: the simulation's clock inside a simulation, else the
/// system's (0 if it is before the epoch).
pub fn unix_ms() -> u64 {
    #[cfg(feature = "sim")]
    if let Some(since) = turmoil::since_epoch() {
        return since.as_millis() as u64;
    }
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(feature = "sim")]
thread_local! {
    /// The seeded generator of a simulation running on this thread, if any.
    static SEEDED: std::cell::RefCell<Option<rand::rngs::StdRng>> =
        const { std::cell::RefCell::new(None) };
}

/// Makes [`crate::auth::random_bytes`] on this thread draw from a generator seeded with
/// `seed` (a simulation's nonces and disk identities), or from the OS again with `None`.
#[cfg(feature = "sim")]
pub fn seed_randomness(seed: Option<u64>) {
    use rand::SeedableRng;
    SEEDED.with(|s| *s.borrow_mut() = seed.map(rand::rngs::StdRng::seed_from_u64));
}

/// Fills `bytes` from this thread's seeded generator, if it has one. Returns whether it
/// did.
pub(crate) fn seeded_random_fill(bytes: &mut [u8]) -> bool {
    #[cfg(feature = "sim")]
    {
        use rand::RngCore;
        SEEDED.with(|s| match s.borrow_mut().as_mut() {
            Some(rng) => {
                rng.fill_bytes(bytes);
                true
            }
            None => false,
        })
    }
    #[cfg(not(feature = "sim"))]
    {
        let _ = bytes;
        false
    }
}

/// A TCP network: listeners and streams.
pub trait Net: Send + Sync + 'static {
    /// A connection.
    type Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    /// A listening socket.
    type Listener: Listener<Stream = Self::Stream>;

    /// Listens on `addr`.
    fn bind(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Listener>> + Send;

    /// Connects to `addr`, with Nagle's algorithm off (frames are small and urgent).
    fn connect(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Stream>> + Send;
}

/// A listening socket of a [`Net`].
pub trait Listener: Send + Sync + 'static {
    /// A connection it accepts.
    type Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static;

    /// The next connection and its remote address, with Nagle's algorithm off.
    fn accept(&self) -> impl Future<Output = io::Result<(Self::Stream, SocketAddr)>> + Send;
}

/// The operating system's TCP, through tokio.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioNet;

impl Net for TokioNet {
    type Stream = tokio::net::TcpStream;
    type Listener = tokio::net::TcpListener;

    async fn bind(addr: SocketAddr) -> io::Result<Self::Listener> {
        tokio::net::TcpListener::bind(addr).await
    }

    async fn connect(addr: SocketAddr) -> io::Result<Self::Stream> {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }
}

impl Listener for tokio::net::TcpListener {
    type Stream = tokio::net::TcpStream;

    async fn accept(&self) -> io::Result<(Self::Stream, SocketAddr)> {
        let (stream, remote) = tokio::net::TcpListener::accept(self).await?;
        let _ = stream.set_nodelay(true);
        Ok((stream, remote))
    }
}

/// The few file operations the node's storage needs.
pub trait Disk: Send + Sync + std::fmt::Debug + 'static {
    /// Creates `dir` and its parents.
    fn create_dir_all(&self, dir: &Path) -> io::Result<()>;
    /// Whether `path` exists.
    fn exists(&self, path: &Path) -> bool;
    /// The whole content of `path`.
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
    /// Creates (or truncates) `path`, writes `bytes` and syncs the file.
    fn write_synced(&self, path: &Path, bytes: &[u8]) -> io::Result<()>;
    /// Renames `from` to `to`, replacing `to`.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Makes the entries of directory `dir` durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
}

/// The operating system's file system.
#[derive(Debug, Clone, Copy, Default)]
pub struct RealDisk;

impl Disk for RealDisk {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        std::fs::create_dir_all(dir)
    }

    fn exists(&self, path: &Path) -> bool {
        path.exists()
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        std::fs::read(path)
    }

    fn write_synced(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        use std::io::Write;
        let mut file = std::fs::File::create(path)?;
        file.write_all(bytes)?;
        file.sync_all()
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        std::fs::rename(from, to)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        std::fs::File::open(dir)?.sync_all()
    }
}

#[cfg(feature = "sim")]
pub use simulated::{SimDisk, SimNet};

#[cfg(feature = "sim")]
mod simulated {
    use super::{Disk, Listener, Net};
    use std::io;
    use std::net::SocketAddr;
    use std::path::Path;
    use turmoil::fs::shim::std::fs;

    /// turmoil's simulated TCP (only inside a simulation's host).
    #[derive(Debug, Clone, Copy, Default)]
    pub struct SimNet;

    impl Net for SimNet {
        type Stream = turmoil::net::TcpStream;
        type Listener = turmoil::net::TcpListener;

        async fn bind(addr: SocketAddr) -> io::Result<Self::Listener> {
            turmoil::net::TcpListener::bind(addr).await
        }

        async fn connect(addr: SocketAddr) -> io::Result<Self::Stream> {
            turmoil::net::TcpStream::connect(addr).await
        }
    }

    impl Listener for turmoil::net::TcpListener {
        type Stream = turmoil::net::TcpStream;

        async fn accept(&self) -> io::Result<(Self::Stream, SocketAddr)> {
            turmoil::net::TcpListener::accept(self).await
        }
    }

    /// turmoil's simulated file system of the current host: what was written but not
    /// synced is lost when the host crashes.
    #[derive(Debug, Clone, Copy, Default)]
    pub struct SimDisk;

    impl Disk for SimDisk {
        fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
            fs::create_dir_all(dir)
        }

        fn exists(&self, path: &Path) -> bool {
            fs::exists(path)
        }

        fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
            fs::read(path)
        }

        fn write_synced(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
            use std::io::Write;
            let mut file = fs::File::create(path)?;
            file.write_all(bytes)?;
            file.sync_all()
        }

        fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
            fs::rename(from, to)
        }

        fn sync_dir(&self, dir: &Path) -> io::Result<()> {
            fs::sync_dir(dir)
        }
    }
}
