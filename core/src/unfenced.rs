//! `legacy` and `poc`: the orchestrator is the holder of a singleton registry entry that
//! `nodedown` releases; changes are applied by their author and broadcast, with no quorum.
//! `legacy` runs auto-failover only on the holder, with counters that start cold; `poc`
//! runs it everywhere, and the new master fails over the old orchestrator.

use crate::config::ClusterConfig;
use crate::election;
use crate::event::Event;
use crate::ids::{NodeId, Ticks};
use crate::message::Message;
use crate::params::{Design, Params};
use crate::ready::Ready;
use crate::state::NodeState;
use crate::{rebalance, rules};

impl NodeState {
    pub(crate) fn tick_unfenced(&mut self, params: &Params, ready: &mut Ready) {
        if params.design == Design::Legacy {
            self.warm = (self.warm + 1).min(self.threshold());
        }
        Self::broadcast(params, &self.heartbeat(params), ready);
        if !self.active(params) {
            return;
        }
        self.maintain_registry(params, ready);
        if !self.act_unfenced(params, ready)
            && self.is_orchestrator(params)
            && rebalance::step_due(self.config(), params.id, 0)
        {
            let mut next = self.config().next_revision();
            rebalance::step(&mut next);
            self.commit_locally(params, next, ready);
        }
    }

    pub(crate) fn on_message_unfenced(
        &mut self,
        params: &Params,
        from: NodeId,
        msg: Message,
        ready: &mut Ready,
    ) {
        let kind = msg.kind();
        match msg {
            Message::Heartbeat { orchestrator, .. } => {
                let outranks = |a, b| election::outranks(params, a, b);
                let was = self.is_orchestrator(params);
                self.registry.on_heartbeat(from, orchestrator, outranks);
                if was && !self.is_orchestrator(params) {
                    ready.events.push(Event::Released);
                }
            }
            Message::Commit { term, config } => {
                let held = term == self.persistent.accepted_term && &config == self.config();
                if held || self.accept(term, &config, ready) {
                    self.report_commit(params, term, from, &config, ready);
                } else {
                    ready.events.push(Event::Ignored { from, kind });
                }
            }
            _ => ready.events.push(Event::Ignored { from, kind }),
        }
    }

    /// The master registers the singletons when the entry is free; a holder that is no
    /// longer master releases them (`mb_master` surrender).
    fn maintain_registry(&mut self, params: &Params, ready: &mut Ready) {
        let is_master = self.master(params) == params.id;
        if is_master && self.registry.register(params.id) {
            self.warm = 0; // legacy: the new singleton starts with cold counters
            ready.events.push(Event::Registered);
        } else if !is_master && self.registry.release(params.id) {
            ready.events.push(Event::Released);
        }
    }

    /// Fails over the detector's candidate if this node may; returns whether it did.
    fn act_unfenced(&mut self, params: &Params, ready: &mut Ready) -> bool {
        let threshold = self.threshold();
        let warm = match params.design {
            Design::Legacy => self.warm,
            _ => Ticks::MAX,
        };
        let config = self.config();
        let Some(target) = self
            .detector
            .candidate(threshold, warm, |p| config.is_active(p))
        else {
            return false;
        };
        let orchestrator = self.is_orchestrator(params);
        // The origin's rule: a non-orchestrator node fails over the orchestrator it knows when
        // its own logic says the orchestrator is down and it is the new master.
        let takes_over_old_orchestrator = params.design == Design::Poc
            && !orchestrator
            && self.registry.owner() == Some(target)
            && self.master(params) == params.id;
        if !(orchestrator || takes_over_old_orchestrator) {
            return false;
        }
        match rules::check_failover(self.config(), target) {
            Ok(()) => {
                let mut next = self.config().next_revision();
                rules::apply_failover(&mut next, target, params.id, 0);
                self.commit_locally(params, next, ready);
                true
            }
            Err(reason) => {
                ready.events.push(Event::FailoverBlocked {
                    node: target,
                    reason,
                });
                false
            }
        }
    }

    /// `legacy` and `poc` apply a change at once and tell the peers: no quorum.
    pub(crate) fn commit_locally(
        &mut self,
        params: &Params,
        next: ClusterConfig,
        ready: &mut Ready,
    ) {
        let next = crate::config::SharedConfig::new(next);
        self.persistent.config = next.clone();
        self.report_commit(params, 0, params.id, &next, ready);
        Self::broadcast(
            params,
            &Message::Commit {
                term: 0,
                config: next,
            },
            ready,
        );
    }
}
