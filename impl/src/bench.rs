//! The failover benchmark: for each design and target (the orchestrator, another node) and
//! each run, start a fresh cluster, let it settle, fault the target and time the failover
//! from the fault until every survivor has the commit. Writes `bench.json` and `bench.svg`.

use crate::cluster::{Cluster, Fault, Spec, Timings};
use crate::driver::unix_ms;
use anyhow::bail;
use failover_core::Design;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What to measure.
#[derive(Clone, Debug)]
pub struct BenchSpec {
    /// Nodes per cluster.
    pub nodes: u16,
    /// Runs per design and target.
    pub runs: usize,
    /// The designs.
    pub designs: Vec<Design>,
    /// Timings of every cluster.
    pub timings: Timings,
    /// `pause` or `kill`.
    pub fault: Fault,
    /// Where results (and the runs' clusters, while they run) go.
    pub out: PathBuf,
}

/// Which node is faulted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// The orchestrator.
    Orchestrator,
    /// A node that is not the orchestrator.
    Other,
}

impl Target {
    fn name(self) -> &'static str {
        match self {
            Target::Orchestrator => "orchestrator",
            Target::Other => "other",
        }
    }
}

/// Latencies of one design and target.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Series {
    /// The design.
    pub design: Design,
    /// The target.
    pub target: Target,
    /// Fault to failover seen by every survivor, per run, in milliseconds.
    pub latencies_ms: Vec<u64>,
    /// Smallest.
    pub min_ms: Option<u64>,
    /// Median.
    pub p50_ms: Option<u64>,
    /// 90th percentile.
    pub p90_ms: Option<u64>,
    /// Largest.
    pub max_ms: Option<u64>,
    /// Runs with no failover in time, or with a wrong one (each is explained on stderr).
    pub failed_runs: usize,
}

/// `bench.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// Nodes per cluster.
    pub nodes: u16,
    /// Runs per series.
    pub runs: usize,
    /// The fault.
    pub fault: Fault,
    /// The timings.
    pub timings: Timings,
    /// One series per design and target.
    pub series: Vec<Series>,
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    Some(sorted[rank.min(sorted.len()) - 1])
}

/// Runs the benchmark; progress goes to stderr.
pub async fn run(spec: &BenchSpec, exe: &Path) -> anyhow::Result<Report> {
    anyhow::ensure!(spec.nodes >= 3, "the benchmark needs at least 3 nodes");
    anyhow::ensure!(
        matches!(spec.fault, Fault::Pause | Fault::Kill),
        "the benchmark's fault is pause or kill"
    );
    std::fs::create_dir_all(&spec.out)?;
    let total = spec.designs.len() * 2 * spec.runs;
    let mut done = 0;
    let mut series = Vec::new();
    for design in &spec.designs {
        for target in [Target::Orchestrator, Target::Other] {
            let mut latencies = Vec::new();
            let mut failed = 0;
            for run in 0..spec.runs {
                done += 1;
                let dir = spec
                    .out
                    .join("runs")
                    .join(format!("{design}-{}-{run}", target.name()));
                let _ = std::fs::remove_dir_all(&dir);
                match one_run(spec, *design, target, &dir, exe).await {
                    Ok(ms) => {
                        eprintln!(
                            "[{done}/{total}] {design} {}: run {}: {ms} ms",
                            target.name(),
                            run + 1
                        );
                        latencies.push(ms);
                        let _ = std::fs::remove_dir_all(&dir);
                    }
                    Err(e) => {
                        eprintln!(
                            "[{done}/{total}] {design} {}: run {} FAILED: {e:#} (logs kept in {})",
                            target.name(),
                            run + 1,
                            dir.display()
                        );
                        failed += 1;
                    }
                }
            }
            latencies.sort_unstable();
            series.push(Series {
                design: *design,
                target,
                min_ms: latencies.first().copied(),
                p50_ms: percentile(&latencies, 50.0),
                p90_ms: percentile(&latencies, 90.0),
                max_ms: latencies.last().copied(),
                latencies_ms: latencies,
                failed_runs: failed,
            });
        }
    }
    let _ = std::fs::remove_dir(spec.out.join("runs"));
    let report = Report {
        nodes: spec.nodes,
        runs: spec.runs,
        fault: spec.fault,
        timings: spec.timings.clone(),
        series,
    };
    std::fs::write(
        spec.out.join("bench.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    std::fs::write(spec.out.join("bench.svg"), svg(&report))?;
    Ok(report)
}

async fn one_run(
    spec: &BenchSpec,
    design: Design,
    target: Target,
    dir: &Path,
    exe: &Path,
) -> anyhow::Result<u64> {
    let cluster_spec = Spec {
        nodes: spec.nodes,
        design,
        timings: spec.timings.clone(),
        log: "info".into(),
        log_json: false,
    };
    let mut cluster = Cluster::create(dir, &cluster_spec, exe)?;
    cluster.bootstrap_all()?;
    let result = measure(&mut cluster, spec, target).await;
    cluster.stop_all()?;
    result
}

async fn measure(cluster: &mut Cluster, spec: &BenchSpec, target: Target) -> anyhow::Result<u64> {
    let orchestrator = cluster.wait_settled(Duration::from_secs(30)).await?;
    // Settled: a few more heartbeats so that every detector has fresh counts.
    tokio::time::sleep(Duration::from_millis(5 * spec.timings.heartbeat_ms)).await;
    let victim = match target {
        Target::Orchestrator => orchestrator,
        Target::Other => cluster
            .file
            .members
            .iter()
            .map(|m| m.id)
            .filter(|id| *id != orchestrator)
            .max()
            .expect("3+ nodes"),
    };
    let survivors: Vec<_> = cluster
        .file
        .members
        .iter()
        .filter(|m| m.id != victim)
        .map(|m| m.admin)
        .collect();
    let fault_at = unix_ms();
    cluster.fault(victim, spec.fault)?;
    let t = &spec.timings;
    let limit = Duration::from_millis(t.net_tick_ms + 4 * t.timeout_ms + 5_000);
    let deadline = Instant::now() + limit;
    loop {
        let mut seen = Vec::new();
        for admin in &survivors {
            let records = cluster.client().failovers(*admin).await.unwrap_or_default();
            let of_victim: Vec<_> = records.iter().filter(|r| r.node == victim).collect();
            if of_victim.len() > 1 {
                bail!("node {victim} failed over {} times", of_victim.len());
            }
            if let Some(r) = of_victim.first() {
                if r.seen_at_ms.is_some_and(|at| at >= fault_at) {
                    seen.push(r.seen_at_ms.unwrap());
                }
            }
            if records.iter().any(|r| r.node != victim) {
                bail!("a node other than {victim} was failed over");
            }
        }
        if seen.len() == survivors.len() {
            return Ok(seen.into_iter().max().unwrap_or(fault_at) - fault_at);
        }
        if Instant::now() > deadline {
            bail!("node {victim} not failed over on every survivor within {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Prints the summary table.
pub fn summary(report: &Report) -> String {
    let mut out = format!(
        "{:<8} {:<13} {:>5} {:>7} {:>7} {:>7} {:>7} {:>7}\n",
        "design", "target", "runs", "min", "p50", "p90", "max", "failed"
    );
    let ms = |v: Option<u64>| v.map_or("-".to_string(), |v| format!("{v}ms"));
    for s in &report.series {
        let _ = writeln!(
            out,
            "{:<8} {:<13} {:>5} {:>7} {:>7} {:>7} {:>7} {:>7}",
            s.design.name(),
            s.target.name(),
            s.latencies_ms.len(),
            ms(s.min_ms),
            ms(s.p50_ms),
            ms(s.p90_ms),
            ms(s.max_ms),
            s.failed_runs
        );
    }
    out
}

/// A strip plot: one row per design and target, a dot per run, a bar at the median.
pub fn svg(report: &Report) -> String {
    let rows = &report.series;
    let max = rows
        .iter()
        .filter_map(|s| s.max_ms)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let (left, width, row_h, top) = (190.0, 560.0, 44.0, 56.0);
    let height = top + row_h * rows.len() as f64 + 50.0;
    let x = |ms: f64| left + ms / (max * 1.05) * width;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"10\" y=\"18\" font-size=\"14\">Failover latency: fault ({fault}) to the commit seen by every survivor (dot: a run; bar: median)</text>\n\
         <text x=\"10\" y=\"36\">{n} nodes · heartbeat {hb} ms · timeout {to} ms · net tick {nt} ms</text>\n",
        w = left + width + 30.0,
        fault = format!("{:?}", report.fault).to_lowercase(),
        n = report.nodes,
        hb = report.timings.heartbeat_ms,
        to = report.timings.timeout_ms,
        nt = report.timings.net_tick_ms,
    );
    let axis_y = top + row_h * rows.len() as f64;
    let _ = writeln!(
        out,
        "<line x1=\"{left}\" y1=\"{axis_y}\" x2=\"{}\" y2=\"{axis_y}\" stroke=\"black\"/>",
        left + width
    );
    let step = nice_step(max);
    let mut tick = 0.0;
    while tick <= max * 1.05 {
        let tx = x(tick);
        let _ = writeln!(
            out,
            "<line x1=\"{tx}\" y1=\"{top}\" x2=\"{tx}\" y2=\"{axis_y}\" stroke=\"#ddd\"/><text x=\"{tx}\" y=\"{}\" text-anchor=\"middle\">{tick}</text>",
            axis_y + 16.0
        );
        tick += step;
    }
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">milliseconds</text>",
        left + width / 2.0,
        axis_y + 36.0
    );
    for (i, s) in rows.iter().enumerate() {
        let cy = top + row_h * i as f64 + row_h / 2.0;
        let colour = if s.design == Design::Fenced {
            "#1f77b4"
        } else {
            "#d62728"
        };
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{} · {}</text>",
            left - 10.0,
            cy + 4.0,
            s.design,
            s.target.name()
        );
        for ms in &s.latencies_ms {
            let _ = writeln!(
                out,
                "<circle cx=\"{}\" cy=\"{cy}\" r=\"4\" fill=\"{colour}\" fill-opacity=\"0.6\"/>",
                x(*ms as f64)
            );
        }
        if let Some(p50) = s.p50_ms {
            let px = x(p50 as f64);
            let _ = writeln!(
                out,
                "<line x1=\"{px}\" y1=\"{}\" x2=\"{px}\" y2=\"{}\" stroke=\"black\" stroke-width=\"2\"/>",
                cy - 12.0,
                cy + 12.0
            );
        }
    }
    out.push_str("</svg>\n");
    out
}

fn nice_step(max: f64) -> f64 {
    let raw = max / 6.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(magnitude * 10.0)
        .max(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plot_has_a_dot_per_run_and_a_median_per_series() {
        let series = |design, target, latencies_ms: Vec<u64>| Series {
            design,
            target,
            min_ms: latencies_ms.first().copied(),
            p50_ms: percentile(&latencies_ms, 50.0),
            p90_ms: percentile(&latencies_ms, 90.0),
            max_ms: latencies_ms.last().copied(),
            latencies_ms,
            failed_runs: 0,
        };
        let report = Report {
            nodes: 3,
            runs: 3,
            fault: Fault::Pause,
            timings: Timings {
                heartbeat_ms: 100,
                timeout_ms: 1000,
                net_tick_ms: 4000,
                max_count: 1,
            },
            series: vec![
                series(Design::Fenced, Target::Orchestrator, vec![990, 1000, 1090]),
                series(Design::Legacy, Target::Other, vec![]),
            ],
        };
        let svg = svg(&report);
        assert_eq!(svg.matches("<circle").count(), 3);
        assert_eq!(
            svg.matches("stroke-width=\"2\"").count(),
            1,
            "one median bar"
        );
        assert!(svg.contains("fenced · orchestrator") && svg.contains("legacy · other"));
        assert!(svg.ends_with("</svg>\n"));
    }

    #[test]
    fn nearest_rank_percentiles() {
        let v = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
        assert_eq!(percentile(&v, 50.0), Some(50));
        assert_eq!(percentile(&v, 90.0), Some(90));
        assert_eq!(percentile(&[7], 90.0), Some(7));
        assert_eq!(percentile(&[], 50.0), None);
    }
}
