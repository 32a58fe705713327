//! Recorded runs of the real node checked against the model (`failover-model validate`):
//! simulated runs of fenced are behaviours of the model with every property holding; poc's
//! are behaviours too, and break the property the history checks say they break, at the
//! same step; a journal with a step dropped, moved, invented or altered is not one.
//! (A real multi-process run with faults is validated in `tests/tests/recorded.rs`.)

use failover_core::{Design, Entry, Input, Message, Persistent, StartKind, StepRecord};
use failover_impl::sim::{self, Options};
use failover_model::validate::{validate, Replay, Verdict};
use failover_tests::seeds;

fn journal(design: Design, nodes: u16, seed: u64) -> sim::Outcome {
    let options = Options {
        nodes,
        design,
        ..Options::default()
    };
    sim::run(seed, &options)
}

#[test]
fn simulated_runs_of_fenced_are_behaviours_of_the_model() {
    for (nodes, count) in [(3, seeds(100)), (5, seeds(40))] {
        let mut total = Replay::default();
        for seed in 1..=count {
            let outcome = journal(Design::Fenced, nodes, seed);
            match validate(&outcome.entries) {
                Verdict::Valid(r) => {
                    total.entries += r.entries;
                    total.actions += r.actions;
                    total.restarts += r.restarts;
                    total.disk_losses += r.disk_losses;
                    total.deliveries += r.deliveries;
                    total.duplicates += r.duplicates;
                    total.losses += r.losses;
                    total.silences += r.silences;
                    total.admin += r.admin;
                    total.refused += r.refused;
                }
                other => panic!(
                    "seed {seed}, {nodes} nodes (failover sim --seed {seed} --nodes {nodes} \
                     --journal F; failover-model validate F): {other:?}"
                ),
            }
        }
        println!("{nodes} nodes, seeds 1..={count}: all valid; {total:?}");
        // The runs must hold what validation is about, or they prove little.
        assert!(total.restarts > 0 && total.disk_losses > 0, "{total:?}");
        assert!(total.silences > 0 && total.admin > 0, "{total:?}");
        assert!(total.losses > 0 && total.duplicates > 0, "{total:?}");
    }
}

#[test]
fn poc_runs_break_the_property_the_history_checks_name_at_the_same_step() {
    let mut caught = 0;
    for seed in 1..=10 {
        let outcome = journal(Design::Poc, 3, seed);
        let Some(first) = outcome.violations.first() else {
            continue;
        };
        let Verdict::Violates { property, at, .. } = validate(&outcome.entries) else {
            panic!("poc seed {seed}: the history checks found {first:?}, validation nothing");
        };
        assert_eq!(property, first.property, "poc seed {seed}");
        // The history checks count steps, the journal starts too.
        let step_index = outcome.entries[..=at]
            .iter()
            .filter(|e| matches!(e, Entry::Step(_)))
            .count()
            - 1;
        assert_eq!(step_index, first.step, "poc seed {seed}: the same step");
        caught += 1;
    }
    assert!(caught >= 5, "poc caught on {caught} of 10 seeds");
}

fn steps(entries: &[Entry]) -> impl Iterator<Item = (usize, &StepRecord)> {
    entries.iter().enumerate().filter_map(|(i, e)| match e {
        Entry::Step(s) => Some((i, s)),
        Entry::Start(_) => None,
    })
}

fn assert_rejected(what: &str, entries: &[Entry]) {
    match validate(entries) {
        Verdict::Mismatch(m, _) => println!("{what}: {m}"),
        other => panic!("{what} must not validate: {other:?}"),
    }
}

#[test]
fn tampered_journals_are_not_behaviours_of_the_model() {
    let entries = journal(Design::Fenced, 3, 1).entries;
    assert!(matches!(validate(&entries), Verdict::Valid(_)));
    let is_vote = |m: &Message| matches!(m, Message::Vote { .. });

    // A step dropped: a node that persisted and sent, recorded without that step.
    let (at, _) = steps(&entries)
        .find(|(_, s)| s.persist.is_some() && !s.sends.is_empty())
        .expect("a step that persists and sends");
    let mut dropped = entries.clone();
    dropped.remove(at);
    assert_rejected("a dropped step", &dropped);

    // A step moved: a vote received before it was sent.
    let (received_at, receipt) = steps(&entries)
        .find(|(_, s)| matches!(&s.input, Input::Message { msg, .. } if is_vote(msg)))
        .expect("a vote received");
    let Input::Message { from, msg } = &receipt.input else {
        unreachable!()
    };
    let (sent_at, _) = steps(&entries[..received_at])
        .filter(|(_, s)| {
            s.node == *from
                && s.sends
                    .iter()
                    .any(|o| o.to == receipt.node && o.msg == *msg)
        })
        .last()
        .expect("the vote was sent before");
    let mut moved = entries.clone();
    let receipt = moved.remove(received_at);
    moved.insert(sent_at, receipt);
    assert_rejected("a receipt moved before its send", &moved);

    // A step invented: a vote for a term nobody asked for.
    let mut invented = entries.clone();
    let Entry::Step(step) = &mut invented[received_at] else {
        unreachable!()
    };
    let Input::Message {
        msg: Message::Vote { term, .. },
        ..
    } = &mut step.input
    else {
        unreachable!()
    };
    *term += 50;
    assert_rejected("a vote nobody sent", &invented);

    // An output altered: a step that sent one message fewer than the core did.
    let (at, _) = steps(&entries)
        .find(|(_, s)| s.sends.len() > 1)
        .expect("a step that sends");
    let mut altered = entries.clone();
    let Entry::Step(step) = &mut altered[at] else {
        unreachable!()
    };
    step.sends.pop();
    assert_rejected("a step that sent less than its core", &altered);

    // A restart from an older state than its disk held, as a driver whose writes were not
    // durable would show.
    let entries = (1..=20)
        .map(|seed| journal(Design::Fenced, 3, seed).entries)
        .find(|e| {
            e.iter()
                .any(|e| matches!(e, Entry::Start(s) if s.kind == StartKind::Disk))
        })
        .expect("a run with a restart from disk");
    let at = entries
        .iter()
        .position(|e| matches!(e, Entry::Start(s) if s.kind == StartKind::Disk))
        .unwrap();
    let node = entries[at].node();
    let written: Vec<Persistent> = steps(&entries[..at])
        .filter(|(_, s)| s.node == node)
        .filter_map(|(_, s)| s.persist.clone())
        .collect();
    let older = written
        .iter()
        .rev()
        .find(|p| Some(*p) != written.last())
        .expect("two different states written before the restart")
        .clone();
    let mut forgetful = entries.clone();
    let Entry::Start(start) = &mut forgetful[at] else {
        unreachable!()
    };
    start.persistent = older;
    assert_rejected(
        "a restart from an older state than the disk held",
        &forgetful,
    );
}
