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
