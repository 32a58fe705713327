//! Counterexamples a person can read: the changes each step made, and the shortest path to
//! a violation (stateright's own search does not return the shortest one).

use crate::model::FailoverModel;
use crate::state::{Pending, State, Status};
use failover_core::{ClusterConfig, Membership, NodeId, NodeState, Role};
use stateright::{Model, Path};
use std::collections::hash_map::DefaultHasher;
use std::collections::{HashSet, VecDeque};
use std::hash::{Hash, Hasher};

fn role(node: &NodeState) -> String {
    match &node.role {
        Role::Follower => "follower".into(),
        Role::Candidate(e) => format!("candidate for t{} ({} votes)", e.term, e.voters.len()),
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
            Some(r) => out.push(format!("rebalance running on {r}")),
            None => out.push("rebalance stopped".into()),
        }
    }
    if old.failover_count != new.failover_count || old.quota_epoch != new.quota_epoch {
        out.push(format!(
            "count {}/{} (period {})",
            new.failover_count, new.settings.max_count, new.quota_epoch
        ));
    }
    out
}

/// What changed from `before` to `after`, one line per fact.
pub fn describe_changes(model: &FailoverModel, before: &State, after: &State) -> Vec<String> {
    let mut out = Vec::new();
    if before.now != after.now {
        out.push(format!("clock t={}", after.now));
    }
    for (i, (old, new)) in before.nodes.iter().zip(&after.nodes).enumerate() {
        let id = NodeId(i as u16);
        let params = &model.params[i];
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
        if o.role != n.role {
            facts.push(role(n));
        }
        if o.persistent.promised != n.persistent.promised {
            facts.push(format!("promised t{}", n.persistent.promised));
        }
        if o.config().revision != n.config().revision {
            let mut c = vec![format!("config r{}", n.config().revision)];
            c.extend(config_changes(o.config(), n.config()));
            facts.push(c.join(", "));
        }
        if o.registry != n.registry {
            facts.push(match n.registry.owner() {
                Some(owner) => format!("registry: singletons on {owner}"),
                None => "registry: no owner".into(),
            });
        }
        if o.detector.down_set() != n.detector.down_set()
            || o.detector
                .down_set()
                .iter()
                .any(|p| o.detector.down_ticks(*p) != n.detector.down_ticks(*p))
        {
            let counts: Vec<String> = n
                .detector
                .down_set()
                .iter()
                .map(|p| format!("{p}:{}", n.detector.down_ticks(*p)))
                .collect();
            facts.push(if counts.is_empty() {
                "sees everyone up".into()
            } else {
                format!("down counters {}", counts.join(" "))
            });
        }
        if o.is_orchestrator(params) != n.is_orchestrator(params) {
            facts.push(if n.is_orchestrator(params) {
                "now acts as orchestrator".into()
            } else {
                "no longer acts as orchestrator".into()
            });
        }
        if old.disk != new.disk {
            facts.push(format!(
                "disk: r{} t{} promised t{}",
                new.disk.config.revision, new.disk.accepted_term, new.disk.promised
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
    if g1.without_majority && !g0.without_majority {
        out.push("!! committed before a majority persisted it".into());
    }
    if g1.during_rebalance && !g0.during_rebalance {
        out.push("!! committed while another node's rebalance runs".into());
    }
    if g1.fenced_resumed && !g0.fenced_resumed {
        out.push("a failed-over orchestrator is running again".into());
    }
    out
}

fn fingerprint(state: &State) -> u64 {
    let mut h = DefaultHasher::new();
    state.hash(&mut h);
    h.finish()
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
    let Some(init) = model.init_states().into_iter().next() else {
        return vec![None; goals.len()];
    };
    // Each visited state remembers its parent and the action that led to it.
    let mut parents: Vec<(usize, Option<crate::state::Action>)> = vec![(usize::MAX, None)];
    let mut found: Vec<Option<usize>> = goals.iter().map(|g| g(&init).then_some(0)).collect();
    let mut seen = HashSet::from([fingerprint(&init)]);
    let mut queue = VecDeque::from([(init.clone(), 0usize)]);
    while found.iter().any(Option::is_none) && seen.len() <= limit {
        let Some((state, index)) = queue.pop_front() else {
            break;
        };
        for (action, next) in model.next_steps(&state) {
            if !model.within_boundary(&next) || !seen.insert(fingerprint(&next)) {
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
