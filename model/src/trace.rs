//! Counterexamples a person can read: the changes each step made, and the shortest path to
//! a violation (stateright's own search does not return the shortest one).

use crate::engine::fingerprint;
use crate::model::FailoverModel;
use crate::state::{Pending, State, Status};
use failover_core::{ClusterConfig, Membership, Node, NodeId, Role};
use stateright::{Model, Path};
use std::collections::{HashSet, VecDeque};

fn role(node: &Node) -> String {
    match node.role() {
        Role::Candidate(e) => format!("candidate for t{} ({} votes)", e.term, e.voters.len()),
        Role::PreCandidate(p) => {
            format!("pre-voting for t{} ({} yes)", p.term, p.granted.len())
        }
        Role::Leader {
            term,
            proposal: None,
        } => format!("leader of t{term}"),
        Role::Leader {
            term,
            proposal: Some(p),
        } => format!(
            "leader of t{term}, r{} accepted by {}",
            p.config.revision,
            p.acks.len()
        ),
        _ => "follower".into(),
    }
}

fn config_changes(old: &ClusterConfig, new: &ClusterConfig) -> Vec<String> {
    let mut out = Vec::new();
    for (node, membership) in &new.membership {
        if old.membership.get(node) != Some(membership) && *membership == Membership::FailedOver {
            out.push(format!("{node} failed over"));
        }
    }
    if old.orchestrator != new.orchestrator || old.term != new.term {
        match new.orchestrator {
            Some(o) => out.push(format!("orchestrator {o} (t{})", new.term)),
            None => out.push("no orchestrator".into()),
        }
    }
    if old.rebalance != new.rebalance {
        match new.rebalance {
            Some(r) => out.push(format!(
                "rebalance by {} (t{}) step {}/{}",
                r.runner, r.term, r.done, r.steps
            )),
            None => out.push("no rebalance".into()),
        }
    }
    if old.map_version != new.map_version {
        out.push(format!("data map v{}", new.map_version));
    }
    if old.failover_count != new.failover_count || old.quota_epoch != new.quota_epoch {
        out.push(format!(
            "count {}/{} (period {})",
            new.failover_count, new.settings.max_count, new.quota_epoch
        ));
    }
    if old.settings != new.settings {
        out.push(format!(
            "auto-failover {}, canAbortRebalance {}",
            if new.settings.enabled { "on" } else { "off" },
            if new.settings.can_abort_rebalance {
                "on"
            } else {
                "off"
            }
        ));
    }
    if old.boots != new.boots {
        for (node, boot) in &new.boots {
            if old.boots.get(node) != Some(boot) {
                out.push(format!("{node} known by disk {boot}"));
            }
        }
    }
    out
}

/// What changed from `before` to `after`, one line per fact.
pub fn describe_changes(before: &State, after: &State) -> Vec<String> {
    let mut out = Vec::new();
    if before.now != after.now {
        out.push(format!("clock t={}", after.now));
    }
    if before.cut != after.cut && after.cut.is_none() {
        out.push("every link up".into());
    }
    for (old, new) in before.nodes.iter().zip(&after.nodes) {
        let id = new.node.id();
        let mut facts = Vec::new();
        if old.status != new.status {
            facts.push(match new.status {
                Status::Running => "running".to_string(),
                Status::Paused => "paused".to_string(),
                Status::Down { clean } => {
                    format!("down ({})", if clean { "clean" } else { "unclean" })
                }
            });
        }
        if let Status::Down { .. } = new.status {
            if !facts.is_empty() {
                out.push(format!("{id}: {}", facts.join("; ")));
            }
            continue;
        }
        let (o, n) = (&old.node, &new.node);
        if o.role() != n.role() {
            facts.push(role(n));
        }
        if o.persistent().promised() != n.persistent().promised() {
            facts.push(format!("promised t{}", n.persistent().promised()));
        }
        if o.config().revision != n.config().revision {
            let mut c = vec![format!("config r{}", n.config().revision)];
            c.extend(config_changes(o.config(), n.config()));
            facts.push(c.join(", "));
        }
        if o.state().registry() != n.state().registry() {
            facts.push(match n.state().registry().owner() {
                Some(owner) => format!("registry: singletons on {owner}"),
                None => "registry: no owner".into(),
            });
        }
        let counts = |d: &failover_core::Detector| -> Vec<(NodeId, u32)> {
            d.silent().map(|p| (p, d.down_ticks(p))).collect()
        };
        if counts(o.state().detector()) != counts(n.state().detector()) {
            let counts: Vec<String> = counts(n.state().detector())
                .iter()
                .map(|(p, ticks)| format!("{p}:{ticks}"))
                .collect();
            facts.push(if counts.is_empty() {
                "sees everyone up".into()
            } else {
                format!("down counters {}", counts.join(" "))
            });
        }
        if o.is_orchestrator() != n.is_orchestrator() {
            facts.push(if n.is_orchestrator() {
                "now acts as orchestrator".into()
            } else {
                "no longer acts as orchestrator".into()
            });
        }
        if old.disk != new.disk {
            facts.push(format!(
                "disk: r{} t{} promised t{}{}",
                new.disk.config().revision,
                new.disk.accepted_term(),
                new.disk.promised(),
                if new.disk.rejoining() {
                    " (blank, rejoining)"
                } else {
                    ""
                }
            ));
        }
        if old.pending != new.pending {
            match &new.pending {
                Pending::Persist(m) => {
                    facts.push(format!("must write disk before {} messages", m.len()))
                }
                Pending::Send(m) => facts.push(format!("{} messages wait to be sent", m.len())),
                Pending::Idle => {}
            }
        }
        if !facts.is_empty() {
            out.push(format!("{id}: {}", facts.join("; ")));
        }
    }
    let (g0, g1) = (&before.ghost, &after.ghost);
    for r in g1.records.difference(&g0.records) {
        out.push(format!(
            "FAILOVER COMMITTED: {} by {} (t{}, r{}, quota period {})",
            r.node, r.issuer, r.term, r.revision, r.quota_epoch
        ));
    }
    let (v0, v1) = (g0.violations, g1.violations);
    let flags = [
        (
            v0.without_majority,
            v1.without_majority,
            "a commit reported before a majority persisted it",
        ),
        (
            v0.not_one_chain,
            v1.not_one_chain,
            "a committed config lacks what an older one committed",
        ),
        (
            v0.two_configs_in_a_slot,
            v1.two_configs_in_a_slot,
            "two different configs for one term and revision",
        ),
        (
            v0.two_proposers_in_a_term,
            v1.two_proposers_in_a_term,
            "a second node proposed in the same term",
        ),
        (
            v0.during_rebalance,
            v1.during_rebalance,
            "failed over while another node's rebalance runs",
        ),
        (
            v0.while_disabled,
            v1.while_disabled,
            "failed over while auto-failover is off",
        ),
        (
            v0.deposed_work,
            v1.deposed_work,
            "a change of a deposed orchestrator was committed",
        ),
        (
            v0.failed_over_acted,
            v1.failed_over_acted,
            "a change of a failed-over node was committed",
        ),
        (
            v0.beyond_disk,
            v1.beyond_disk,
            "a message claims more than its sender's disk holds",
        ),
        (
            v0.premature,
            v1.premature,
            "failed over before the timeout of silence",
        ),
        (
            v0.healthy_orchestrator_replaced,
            v1.healthy_orchestrator_replaced,
            "an orchestrator that could lead was replaced",
        ),
    ];
    for (was, is, what) in flags {
        if is && !was {
            out.push(format!("!! {what}"));
        }
    }
    if g1.seen.fenced_resumed && !g0.seen.fenced_resumed {
        out.push("a failed-over orchestrator is running again".into());
    }
    out
}

/// The shortest path from the initial state to a state where `goal` holds, by
/// breadth-first search over at most `limit` states. `None` if none was found in reach.
pub fn shortest_path(
    model: &FailoverModel,
    goal: impl Fn(&State) -> bool,
    limit: usize,
) -> Option<Path<State, crate::state::Action>> {
    shortest_paths(model, &[&goal], limit).pop().flatten()
}

/// One breadth-first search for several goals at once: for each goal, the shortest path to
/// a state where it holds (`None` if not reached within `limit` states).
pub fn shortest_paths(
    model: &FailoverModel,
    goals: &[&dyn Fn(&State) -> bool],
    limit: usize,
) -> Vec<Option<Path<State, crate::state::Action>>> {
    shortest_paths_within(model, goals, limit, &|| true)
}

/// [`shortest_paths`], giving up (for the goals not reached yet) once `within_bounds`,
/// asked every 65,536 states, says the run has passed its memory or time bound.
pub fn shortest_paths_within(
    model: &FailoverModel,
    goals: &[&dyn Fn(&State) -> bool],
    limit: usize,
    within_bounds: &dyn Fn() -> bool,
) -> Vec<Option<Path<State, crate::state::Action>>> {
    let Some(init) = model.init_states().into_iter().next() else {
        return vec![None; goals.len()];
    };
    // Each visited state remembers its parent and the action that led to it.
    let mut parents: Vec<(usize, Option<crate::state::Action>)> = vec![(usize::MAX, None)];
    let mut found: Vec<Option<usize>> = goals.iter().map(|g| g(&init).then_some(0)).collect();
    // Fingerprints are hashes already: a cheap hasher for the set of them.
    let mut seen = HashSet::with_hasher(ahash::RandomState::with_seeds(1, 2, 3, 4));
    seen.insert(fingerprint(&init));
    let mut queue = VecDeque::from([(init.clone(), 0usize)]);
    while found.iter().any(Option::is_none) && seen.len() <= limit {
        let Some((state, index)) = queue.pop_front() else {
            break;
        };
        if index % 65_536 == 0 && !within_bounds() {
            break;
        }
        if model.at_bound(&state) {
            continue;
        }
        for (action, next) in model.next_steps(&state) {
            if !seen.insert(fingerprint(&next)) {
                continue;
            }
            parents.push((index, Some(action)));
            let next_index = parents.len() - 1;
            for (goal, slot) in goals.iter().zip(found.iter_mut()) {
                if slot.is_none() && goal(&next) {
                    *slot = Some(next_index);
                }
            }
            queue.push_back((next, next_index));
        }
    }
    found
        .into_iter()
        .map(|at| {
            let mut at = at?;
            let mut actions = Vec::new();
            while let (parent, Some(action)) = &parents[at] {
                actions.push(action.clone());
                at = *parent;
            }
            actions.reverse();
            Path::from_actions(model, init.clone(), &actions)
        })
        .collect()
}
