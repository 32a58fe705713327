//! The `failover-model` binary: exit codes, errors and the JSON report.

use std::process::Command;

fn model() -> Command {
    Command::new(env!("CARGO_BIN_EXE_failover-model"))
}

/// A fresh scratch directory of this test process, named after `what`.
fn scratch(what: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("failover-model-{what}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn bad_flags_get_a_clear_error() {
    let out = model().args(["check", "--nodes", "9"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--nodes must be between 2 and 6"), "{err}");

    let out = model()
        .args(["check", "--design", "raft"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("possible values"));
}

#[test]
fn violations_exit_nonzero_and_json_carries_the_facts() {
    let dir = scratch("cli");
    let json = dir.join("poc.json");
    let out = model()
        .args(["check", "--design", "poc", "--threads", "1", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "poc has violations");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("VIOLATED"), "{stdout}");
    assert!(stdout.contains("Explorer: #/steps/0/"), "{stdout}");

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    for key in [
        "design",
        "nodes",
        "timing",
        "bounds",
        "exhaustive",
        "unique_states",
        "states",
        "max_depth",
        "elapsed_s",
        "properties",
    ] {
        assert!(report.get(key).is_some(), "missing {key}");
    }
    assert_eq!(report["design"], "poc");
    assert_eq!(report["exhaustive"], true);
    let violated: Vec<&serde_json::Value> = report["properties"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["status"] == "violated")
        .collect();
    assert!(!violated.is_empty());
    for p in violated {
        assert!(!p["trace"].as_array().unwrap().is_empty());
        assert!(p["explorer_path"]
            .as_str()
            .unwrap()
            .starts_with("#/steps/0"));
        assert_eq!(p["kind"], "always");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_passing_check_exits_zero() {
    let out = model()
        .args([
            "check",
            "--nodes",
            "4",
            "--timing",
            "timed",
            "--threads",
            "1",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("exhaustive within the bounds"));
}

#[test]
fn the_timed_part_of_the_ci_profile_passes_and_lists_every_pair() {
    let dir = scratch("ci");
    let json = dir.join("ci.json");
    let out = model()
        .args(["check", "--profile", "ci", "--timing", "timed", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    // Twelve kinds exist in timed (duplicates do not): 66 pairs, each searched.
    assert!(
        stdout.contains("66 of 66 searches passed (exhaustive) · 0 of 0 walks"),
        "{stdout}"
    );
    assert!(stdout.contains("timed  3  pause+partition"), "{stdout}");
    let rows: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 66);
    for row in rows {
        assert_eq!(row["passed"], true);
        assert_eq!(row["report"]["exhaustive"], true, "{}", row["kinds"]);
        assert!(row["report"]["unique_states"].as_u64().unwrap() > 0);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn one_run_of_a_profile_is_chosen_by_its_label() {
    let out = model()
        .args(["check", "--profile", "deep", "--run", "unclean+partition"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "deep does not hold that pair");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no run labelled unclean+partition"), "{err}");

    let out = model()
        .args(["check", "--profile", "ci", "--timing", "async"])
        .args(["--run", "crash+unclean", "--run", "crash+loss"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<&str> = stdout.lines().filter(|l| l.starts_with("async")).collect();
    assert_eq!(rows.len(), 2, "{stdout}");
    assert!(stdout.contains("2 of 2 searches passed"), "{stdout}");
}

#[test]
fn a_memory_bound_is_a_failure_not_a_pass() {
    let out = model()
        .args(["check", "--max-memory", "1M"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("NOT exhaustive: memory bound"), "{stdout}");

    let out = model()
        .args(["check", "--max-memory", "lots"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a size such as 512M or 4G"), "{err}");
}

#[test]
fn validate_says_what_it_cannot_read() {
    let dir = scratch("validate");
    let out = model()
        .args(["validate"])
        .arg(dir.join("missing.jsonl"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));

    let bad = dir.join("bad.jsonl");
    std::fs::write(&bad, "{\"start\": 1}\n").unwrap();
    let out = model().args(["validate"]).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.jsonl:1: not a journal entry"), "{err}");

    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = model().args(["validate"]).arg(&empty).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no journal"));

    // A journal that does not begin with its cluster: not a behaviour, exit 1.
    let headless = dir.join("headless.jsonl");
    std::fs::write(&headless, "").unwrap();
    let out = model().args(["validate"]).arg(&headless).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("NOT a behaviour of the model"));
}
