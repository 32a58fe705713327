//! Master choice, as `mb_master` does it: no quorum; each node picks the best-priority node
//! among itself and the active peers it has heard from recently. Each side of a partition
//! may pick its own master; `fenced` makes that harmless with terms ([`crate::quorum`]),
//! and leaves out peers that say they hear no majority (they could not win a term).

use crate::config::ClusterConfig;
use crate::detector::Detector;
use crate::ids::NodeId;
use crate::params::Params;

/// Whether `peer` counts as up for master choice.
pub fn seen_up(params: &Params, detector: &Detector, peer: NodeId) -> bool {
    peer == params.id || detector.down_ticks(peer) < params.master_ticks
}

/// The master as this node sees it: highest priority, then lowest id, among itself and the
/// active members it sees up for which `eligible` holds.
pub fn master(
    params: &Params,
    config: &ClusterConfig,
    detector: &Detector,
    eligible: impl Fn(NodeId) -> bool,
) -> NodeId {
    params
        .members
        .iter()
        .filter(|(n, _)| config.is_active(**n) && seen_up(params, detector, **n) && eligible(**n))
        .max_by(|(a, pa), (b, pb)| pa.cmp(pb).then(b.cmp(a)))
        .map(|(n, _)| *n)
        .unwrap_or(params.id)
}

/// Whether `a` beats `b` in master priority.
pub fn outranks(params: &Params, a: NodeId, b: NodeId) -> bool {
    let pa = params.members.get(&a).copied().unwrap_or(0);
    let pb = params.members.get(&b).copied().unwrap_or(0);
    (pa, std::cmp::Reverse(a)) > (pb, std::cmp::Reverse(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use crate::params::Design;

    #[test]
    fn lowest_id_wins_ties_and_silent_peers_lose() {
        let members = [NodeId(0), NodeId(1), NodeId(2)];
        let params = Params::new(NodeId(1), members, Design::Fenced, 1).unwrap();
        let config = ClusterConfig::initial(members, Settings::default());
        let mut detector = Detector::new(members, 0);
        let all = |_| true;
        assert_eq!(master(&params, &config, &detector, all), NodeId(0));
        assert_eq!(
            master(&params, &config, &detector, |n| n != NodeId(0)),
            NodeId(1),
            "a peer that hears no majority is passed over"
        );
        detector.tick([NodeId(0), NodeId(2)], |_| true, 3, 3);
        detector.heard(NodeId(2));
        detector.tick([NodeId(0), NodeId(2)], |_| true, 3, 3);
        assert_eq!(master(&params, &config, &detector, all), NodeId(1));
        assert!(outranks(&params, NodeId(0), NodeId(1)));
    }

    #[test]
    fn priority_beats_id() {
        let mut params = Params::new(NodeId(0), [NodeId(0), NodeId(1)], Design::Poc, 1).unwrap();
        params.members.insert(NodeId(1), 5);
        let config = ClusterConfig::initial([NodeId(0), NodeId(1)], Settings::default());
        let detector = Detector::new([NodeId(1)], 0);
        assert_eq!(master(&params, &config, &detector, |_| true), NodeId(1));
    }
}
