//! Logs: readable lines by default, JSON lines with `--log-json`. The filter takes
//! `target=level` directives (`info,failover::core=debug` logs every core input and output).

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Installs the global subscriber, writing to stderr.
pub fn init(filter: &str, json: bool) -> anyhow::Result<()> {
    let targets: Targets = filter
        .parse()
        .map_err(|e| anyhow::anyhow!("bad log filter {filter:?}: {e}"))?;
    let registry = tracing_subscriber::registry().with(targets);
    if json {
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(std::io::stderr),
            )
            .init();
    } else {
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                    .with_writer(std::io::stderr),
            )
            .init();
    }
    Ok(())
}

/// At most one line a second for one kind of refusal, so that a flood of bad requests does
/// not become a flood of log lines: each allowed line carries how many were left out.
#[derive(Debug, Default)]
pub struct LogLimit {
    last: std::sync::Mutex<Option<tokio::time::Instant>>,
    left_out: std::sync::atomic::AtomicU64,
}

impl LogLimit {
    /// A limiter that allows the first line at once.
    pub const fn new() -> Self {
        LogLimit {
            last: std::sync::Mutex::new(None),
            left_out: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// `Some(left out since the last line)` if a line may be logged now.
    pub fn allow(&self) -> Option<u64> {
        use std::sync::atomic::Ordering;
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let due = last.is_none_or(|at| at.elapsed() >= std::time::Duration::from_secs(1));
        if !due {
            self.left_out.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        *last = Some(tokio::time::Instant::now());
        Some(self.left_out.swap(0, Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_a_second_with_the_count_left_out() {
        let limit = LogLimit::new();
        assert_eq!(limit.allow(), Some(0));
        assert_eq!(limit.allow(), None);
        assert_eq!(limit.allow(), None);
        *limit.last.lock().unwrap() =
            Some(tokio::time::Instant::now() - std::time::Duration::from_secs(2));
        assert_eq!(limit.allow(), Some(2));
    }
}
