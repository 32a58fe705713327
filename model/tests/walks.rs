//! Seeded random walks with every fault kind at once, where the exhaustive slices cannot go
//! (async pauses with rebalances, admin commands and disk loss together; 5 nodes). Not
//! exhaustive: each walk prints its seed, and `failover-model simulate ... --seed S`
//! repeats it. `FAILOVER_WALK_SEEDS=1,2,3` replaces the fixed seeds.

use std::process::Command;

/// Every fault kind, once each, on top of the network mode given.
const EVERY_FAULT: &[&str] = &[
    "--clean-shutdowns",
    "1",
    "--unclean-shutdowns",
    "1",
    "--restarts",
    "1",
    "--disk-losses",
    "1",
    "--pauses",
    "1",
    "--losses",
    "1",
    "--duplicates",
    "1",
    "--link-drops",
    "1",
    "--late-heartbeats",
    "1",
    "--partitions",
    "1",
    "--one-way-cuts",
    "1",
    "--rebalances",
    "1",
    "--quota-resets",
    "1",
    "--settings-changes",
    "1",
];

fn seeds() -> Vec<u64> {
    match std::env::var("FAILOVER_WALK_SEEDS") {
        Ok(list) => list
            .split(',')
            .map(|s| s.trim().parse().expect("FAILOVER_WALK_SEEDS: numbers"))
            .collect(),
        Err(_) => vec![1, 2, 3],
    }
}

/// Walks `flags` with each seed; every walk must generate `floor` states and see no
/// violation.
fn walk(flags: &[&str], floor: usize) {
    for seed in seeds() {
        let out = Command::new(env!("CARGO_BIN_EXE_failover-model"))
            .arg("simulate")
            .args(flags)
            .args(["--seed", &seed.to_string(), "--states", "300000"])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        println!("seed {seed}: {}\n{stdout}", flags.join(" "));
        assert!(
            out.status.success(),
            "seed {seed} found a violation (or failed):\n{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let states: usize = stdout
            .lines()
            .find_map(|l| l.split(" states in ").next()?.trim().parse().ok())
            .expect("the walk reports its states");
        assert!(states >= floor, "seed {seed}: only {states} states");
    }
}

#[test]
fn three_nodes_async_every_fault_fifo() {
    let flags = [&["--network", "fifo"][..], EVERY_FAULT].concat();
    walk(&flags, 250_000);
}

#[test]
fn three_nodes_async_every_fault_unordered() {
    let flags = [&["--network", "unordered"][..], EVERY_FAULT].concat();
    walk(&flags, 250_000);
}

#[test]
fn three_nodes_async_every_fault_outbox_can_abort() {
    let flags = [
        &["--network", "outbox", "--can-abort-rebalance", "true"][..],
        EVERY_FAULT,
    ]
    .concat();
    walk(&flags, 250_000);
}

#[test]
fn three_nodes_timed_every_fault() {
    let flags = [&["--timing", "timed"][..], EVERY_FAULT].concat();
    walk(&flags, 250_000);
}

#[test]
fn five_nodes_timed_every_fault() {
    let flags = [&["--nodes", "5", "--timing", "timed"][..], EVERY_FAULT].concat();
    walk(&flags, 250_000);
}

#[test]
fn five_nodes_async_every_fault() {
    let flags = [&["--nodes", "5"][..], EVERY_FAULT].concat();
    walk(&flags, 250_000);
}
