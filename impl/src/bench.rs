//! The failover benchmark: for each design and target (the orchestrator, another node) and
//! each run, start a fresh cluster, let it settle, fault the target and time the failover
//! from the fault until every survivor has the commit. Writes `bench.json` and `bench.svg`.

use crate::cluster::{Cluster, Fault, Spec, Timings};
use crate::seams::unix_ms;
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
    /// The fault injected into the target.
    pub fault: BenchFault,
    /// Where results (and the runs' clusters, while they run) go.
    pub out: PathBuf,
}

/// The faults the benchmark measures: the target stops answering.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchFault {
    /// SIGSTOP: the process hangs (the net-tick timeout decides `nodedown`).
    Pause,
    /// SIGKILL: the process dies (its connections close at once).
    Kill,
}

impl From<BenchFault> for Fault {
    fn from(fault: BenchFault) -> Fault {
        match fault {
            BenchFault::Pause => Fault::Pause,
            BenchFault::Kill => Fault::Kill,
        }
    }
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
    std::fs::create_dir_all(&spec.out)?;
    let total = spec.designs.len() * 2 * spec.runs;
    let progress = indicatif::ProgressBar::new(total as u64).with_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} runs · {elapsed} · {msg}")
            .expect("a valid template"),
    );
    let mut series = Vec::new();
    for design in &spec.designs {
        for target in [Target::Orchestrator, Target::Other] {
            let mut latencies = Vec::new();
            let mut failed = 0;
            for run in 0..spec.runs {
                progress.set_message(format!("{design} {}", target.name()));
                let dir = spec
                    .out
                    .join("runs")
                    .join(format!("{design}-{}-{run}", target.name()));
                let _ = std::fs::remove_dir_all(&dir);
                match one_run(spec, *design, target, &dir, exe).await {
                    Ok(ms) => {
                        say(
                            &progress,
                            format!("{design} {}: run {}: {ms} ms", target.name(), run + 1),
                        );
                        latencies.push(ms);
                        let _ = std::fs::remove_dir_all(&dir);
                    }
                    Err(e) => {
                        say(
                            &progress,
                            format!(
                                "{design} {}: run {} FAILED: {e:#} (logs kept in {})",
                                target.name(),
                                run + 1,
                                dir.display()
                            ),
                        );
                        failed += 1;
                    }
                }
                progress.inc(1);
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
    progress.finish_and_clear();
    let _ = std::fs::remove_dir(spec.out.join("runs"));
    let report = Report {
        nodes: spec.nodes,
        runs: spec.runs,
        fault: spec.fault.into(),
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

/// A line above the progress bar, or on stderr when there is no terminal to draw it on.
fn say(progress: &indicatif::ProgressBar, line: String) {
    if progress.is_hidden() {
        eprintln!("{line}");
    } else {
        progress.println(line);
    }
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
        journals: false,
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
    cluster.fault(victim, spec.fault.into())?;
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

/// The latency a failover should stay under: the timeout plus three heartbeats.
pub fn target_ms(timings: &Timings) -> u64 {
    timings.timeout_ms + 3 * timings.heartbeat_ms
}

/// A strip plot: one row per design and target, a dot per run, a bar at the median, the
/// median and maximum in numbers, and the target as a line; the axis spans the data.
pub fn svg(report: &Report) -> String {
    let mut out = String::new();
    if let Err(e) = draw(report, &mut out) {
        // Drawing into a string fails only on a bug; say so in the file itself.
        return format!("<svg xmlns=\"http://www.w3.org/2000/svg\"><text y=\"20\">cannot draw: {e}</text></svg>\n");
    }
    out
}

fn draw(report: &Report, out: &mut String) -> Result<(), Box<dyn std::error::Error>> {
    use plotters::prelude::*;
    let rows = &report.series;
    let target = target_ms(&report.timings) as f64;
    let values: Vec<f64> = rows
        .iter()
        .flat_map(|s| s.latencies_ms.iter().map(|ms| *ms as f64))
        .chain([target])
        .collect();
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(0.0, f64::max);
    let pad = ((hi - lo) * 0.15).max(20.0);
    let x_range = (lo - pad).max(0.0)..hi + pad;
    let height = 150 + 60 * rows.len() as u32;
    let root = SVGBackend::with_string(out, (960, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let t = &report.timings;
    let caption = format!(
        "Failover latency, {} to the commit seen by every survivor ({} nodes, heartbeat {} ms, timeout {} ms)",
        format!("{:?}", report.fault).to_lowercase(),
        report.nodes,
        t.heartbeat_ms,
        t.timeout_ms
    );
    let n = rows.len().max(1) as f64;
    let mut chart = ChartBuilder::on(&root)
        .caption(caption, ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(160)
        .build_cartesian_2d(x_range.clone(), -0.5..n - 0.5)?;
    // The first series on top.
    let row_y = |i: usize| n - 1.0 - i as f64;
    let label = |y: &f64| {
        let i = y.round();
        match rows.get((n - 1.0 - i) as usize) {
            Some(s) if (y - i).abs() < 1e-6 && i >= 0.0 => {
                format!("{} · {}", s.design, s.target.name())
            }
            _ => String::new(),
        }
    };
    chart
        .configure_mesh()
        .x_desc("milliseconds")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_labels(rows.len() * 2 + 1)
        .y_label_formatter(&label)
        .disable_y_mesh()
        .draw()?;
    let run_colour = |s: &Series| {
        if s.design == Design::Fenced {
            BLUE
        } else {
            RED
        }
    };
    chart
        .draw_series(LineSeries::new(
            [(target, -0.5), (target, n - 0.5)],
            GREEN.stroke_width(2),
        ))?
        .label(format!("target: timeout + 3 heartbeats = {target} ms"))
        .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], GREEN.stroke_width(2)));
    chart
        .draw_series(rows.iter().enumerate().flat_map(|(i, s)| {
            let colour = run_colour(s);
            s.latencies_ms
                .iter()
                .map(move |ms| Circle::new((*ms as f64, row_y(i)), 4, colour.mix(0.6).filled()))
        }))?
        .label("one run (blue: fenced, red: others)")
        .legend(|(x, y)| Circle::new((x + 9, y), 4, BLUE.mix(0.6).filled()));
    chart
        .draw_series(rows.iter().enumerate().filter_map(|(i, s)| {
            let p50 = s.p50_ms? as f64;
            let y = row_y(i);
            Some(PathElement::new(
                [(p50, y - 0.3), (p50, y + 0.3)],
                BLACK.stroke_width(3),
            ))
        }))?
        .label("median")
        .legend(|(x, y)| PathElement::new([(x + 9, y - 6), (x + 9, y + 6)], BLACK.stroke_width(3)));
    chart.draw_series(rows.iter().enumerate().map(|(i, s)| {
        let ms = |v: Option<u64>| v.map_or("-".to_string(), |v| format!("{v}"));
        let text = match s.failed_runs {
            0 => format!("p50 {} ms · max {} ms", ms(s.p50_ms), ms(s.max_ms)),
            f => format!(
                "p50 {} ms · max {} ms · {f} failed",
                ms(s.p50_ms),
                ms(s.max_ms)
            ),
        };
        Text::new(text, (x_range.start, row_y(i) + 0.42), ("sans-serif", 12))
    }))?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plot_has_a_dot_per_run_numbers_a_target_and_a_legend() {
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
        assert_eq!(
            svg.matches("<circle").count(),
            3 + 1,
            "a dot per run, one in the legend"
        );
        assert!(svg.contains("fenced · orchestrator") && svg.contains("legacy · other"));
        assert!(svg.contains("p50 1000 ms · max 1090 ms"), "numbers shown");
        assert!(
            svg.contains("timeout + 3 heartbeats = 1300 ms"),
            "target line"
        );
        assert!(svg.contains("median"), "legend");
        assert!(svg.trim_end().ends_with("</svg>"));
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
