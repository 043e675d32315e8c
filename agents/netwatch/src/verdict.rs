//! From round results to what the node does: the network's state on this node (lost after
//! `misses` failed rounds in a row, back at the first round that passes), and the decision
//! table with the guard: a network lost on more than half of the nodes that watch it is the
//! network's failure, not this host's, so nothing is fenced or moved.

use crate::config::OnLoss;

/// Rounds a confirmed loss waits before acting, so that the other nodes, probing on their own
/// clocks, have published theirs: without it, the first node to notice a switch failure would
/// see itself alone and act.
pub const SETTLE_ROUNDS: u32 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetState {
    /// No round has passed yet, and fewer than `misses` have failed.
    Starting,
    Ok,
    Lost,
}

impl NetState {
    pub fn name(self) -> &'static str {
        match self {
            NetState::Starting => "starting",
            NetState::Ok => "ok",
            NetState::Lost => "lost",
        }
    }

    pub fn from_name(name: &str) -> Option<NetState> {
        [NetState::Starting, NetState::Ok, NetState::Lost]
            .into_iter()
            .find(|s| s.name() == name)
    }
}

/// Counts rounds into the network's state on this node.
#[derive(Debug, Clone)]
pub struct Tracker {
    misses: u32,
    failed_in_a_row: u32,
    state: NetState,
    rounds_lost: u32,
}

impl Tracker {
    pub fn new(misses: u32) -> Tracker {
        Tracker {
            misses: misses.max(1),
            failed_in_a_row: 0,
            state: NetState::Starting,
            rounds_lost: 0,
        }
    }

    /// Takes one round's result; returns the new state when it changed.
    pub fn record(&mut self, passed: bool) -> Option<NetState> {
        let before = self.state;
        if passed {
            self.failed_in_a_row = 0;
            self.state = NetState::Ok;
        } else {
            self.failed_in_a_row = self.failed_in_a_row.saturating_add(1);
            if self.failed_in_a_row >= self.misses {
                self.state = NetState::Lost;
            }
        }
        if self.state == NetState::Lost && before == NetState::Lost {
            self.rounds_lost = self.rounds_lost.saturating_add(1);
        } else {
            self.rounds_lost = 0;
        }
        (self.state != before).then_some(self.state)
    }

    pub fn state(&self) -> NetState {
        self.state
    }

    pub fn failed_in_a_row(&self) -> u32 {
        self.failed_in_a_row
    }

    /// Rounds since the loss was confirmed (0 in the confirming round).
    pub fn rounds_lost(&self) -> u32 {
        self.rounds_lost
    }
}

/// The network as the nodes that watch it publish it (this node included, as lost).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peers {
    pub watching: usize,
    pub lost: usize,
}

impl Peers {
    /// More than half of the watching nodes lost it, and there is more than one node to ask:
    /// a node that alone watches a network cannot tell its failure from the network's.
    pub fn network_wide(&self) -> bool {
        self.watching >= 2 && self.lost * 2 > self.watching
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The network works here (or the watch is starting).
    Healthy,
    /// Lost, waiting for the other nodes' reports before acting.
    Settling,
    /// Lost on more than half of the nodes: the network failed, alert only.
    NetworkWide(Peers),
    /// Lost, but the other nodes' states could not be read: alert only (never act blind).
    PeersUnknown,
    /// Lost here and not on most nodes: the policy applies.
    Act(OnLoss),
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Healthy => "healthy",
            Verdict::Settling => "settling",
            Verdict::NetworkWide(_) => "network-wide",
            Verdict::PeersUnknown => "peers-unknown",
            Verdict::Act(OnLoss::Alert) => "alert",
            Verdict::Act(OnLoss::Migrate) => "migrate",
            Verdict::Act(OnLoss::Fence) => "fence",
        }
    }

    /// The node health attribute a migrate policy publishes: red only when it acts.
    pub fn health(self) -> &'static str {
        if self == Verdict::Act(OnLoss::Migrate) {
            "red"
        } else {
            "green"
        }
    }

    /// In a few words (Pacemaker keeps 128 characters of an exit reason), for the log, the
    /// journal and monitor's exit reason.
    pub fn describe(self, on_loss: OnLoss) -> String {
        let policy = on_loss.name();
        match self {
            Verdict::Healthy => "the network works".into(),
            Verdict::Settling => {
                format!("on_loss={policy}: waiting {SETTLE_ROUNDS} rounds for the other nodes")
            }
            Verdict::NetworkWide(p) => format!(
                "lost on {} of {} nodes, the network's failure: on_loss={policy} not applied",
                p.lost, p.watching
            ),
            Verdict::PeersUnknown => {
                format!("other nodes unreadable: on_loss={policy} not applied")
            }
            Verdict::Act(OnLoss::Alert) => "on_loss=alert".into(),
            Verdict::Act(OnLoss::Migrate) => "on_loss=migrate: node health red".into(),
            Verdict::Act(OnLoss::Fence) => "on_loss=fence: monitor fails".into(),
        }
    }
}

/// The decision table.
pub fn decide(on_loss: OnLoss, tracker: &Tracker, peers: Option<Peers>) -> Verdict {
    if tracker.state() != NetState::Lost {
        return Verdict::Healthy;
    }
    if tracker.rounds_lost() < SETTLE_ROUNDS {
        return Verdict::Settling;
    }
    match peers {
        None => Verdict::PeersUnknown,
        Some(p) if p.network_wide() => Verdict::NetworkWide(p),
        Some(_) => Verdict::Act(on_loss),
    }
}

/// Peers from `attrd_updater --query --all --name ATTR` output (`name="..." host="..."
/// value="..."` lines); this node counts as lost whatever attrd last heard from it.
pub fn peers_from_attrd(output: &str, this_node: &str) -> Peers {
    let mut watching = 1;
    let mut lost = 1;
    for line in output.lines() {
        let (Some(host), Some(value)) = (field(line, "host"), field(line, "value")) else {
            continue;
        };
        if host == this_node {
            continue;
        }
        watching += 1;
        if value == "lost" {
            lost += 1;
        }
    }
    Peers { watching, lost }
}

fn field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let start = line.find(&format!("{name}=\""))? + name.len() + 2;
    let rest = &line[start..];
    Some(&rest[..rest.find('"')?])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lost_tracker(misses: u32, extra_rounds: u32) -> Tracker {
        let mut t = Tracker::new(misses);
        for _ in 0..misses + extra_rounds {
            t.record(false);
        }
        t
    }

    #[test]
    fn lost_after_misses_failed_rounds_in_a_row_and_back_at_the_first_pass() {
        let mut t = Tracker::new(3);
        assert_eq!(t.record(true), Some(NetState::Ok));
        assert_eq!(t.record(false), None);
        assert_eq!(t.record(false), None);
        assert_eq!(t.record(true), None, "two misses and a pass: still ok");
        assert_eq!(t.record(false), None);
        assert_eq!(t.record(false), None);
        assert_eq!(t.record(false), Some(NetState::Lost));
        assert_eq!(t.rounds_lost(), 0);
        assert_eq!(t.record(false), None);
        assert_eq!(t.rounds_lost(), 1);
        assert_eq!(t.record(true), Some(NetState::Ok));
        assert_eq!(t.failed_in_a_row(), 0);
    }

    #[test]
    fn a_watch_that_never_passed_is_lost_after_misses_rounds() {
        let mut t = Tracker::new(2);
        assert_eq!(t.record(false), None);
        assert_eq!(t.state(), NetState::Starting);
        assert_eq!(t.record(false), Some(NetState::Lost));
    }

    /// The decision table: (policy, watching nodes, lost nodes) → verdict, after settling.
    #[test]
    fn the_guard_keeps_a_network_failure_from_fencing_or_moving_anything() {
        use OnLoss::*;
        let peers = |watching, lost| Some(Peers { watching, lost });
        let settled = lost_tracker(3, SETTLE_ROUNDS);
        for (on_loss, p, expected) in [
            // alone on one node: the policy
            (Fence, peers(1, 1), Verdict::Act(Fence)),
            // one of two, one of three, two of five: the host
            (Fence, peers(2, 1), Verdict::Act(Fence)),
            (Migrate, peers(3, 1), Verdict::Act(Migrate)),
            (Alert, peers(3, 1), Verdict::Act(Alert)),
            (Fence, peers(5, 2), Verdict::Act(Fence)),
            // half is not more than half
            (Fence, peers(4, 2), Verdict::Act(Fence)),
            // more than half: the network
            (
                Fence,
                peers(3, 2),
                Verdict::NetworkWide(Peers {
                    watching: 3,
                    lost: 2,
                }),
            ),
            (
                Migrate,
                peers(3, 3),
                Verdict::NetworkWide(Peers {
                    watching: 3,
                    lost: 3,
                }),
            ),
            (
                Fence,
                peers(2, 2),
                Verdict::NetworkWide(Peers {
                    watching: 2,
                    lost: 2,
                }),
            ),
            // blind: never act
            (Fence, None, Verdict::PeersUnknown),
            (Migrate, None, Verdict::PeersUnknown),
        ] {
            assert_eq!(decide(on_loss, &settled, p), expected, "{on_loss:?} {p:?}");
        }
    }

    #[test]
    fn nothing_happens_before_the_loss_is_confirmed_and_settled() {
        let alone = Some(Peers {
            watching: 3,
            lost: 1,
        });
        let mut t = Tracker::new(3);
        t.record(false);
        t.record(false);
        assert_eq!(decide(OnLoss::Fence, &t, alone), Verdict::Healthy);
        t.record(false);
        assert_eq!(decide(OnLoss::Fence, &t, alone), Verdict::Settling);
        t.record(false);
        assert_eq!(decide(OnLoss::Fence, &t, alone), Verdict::Settling);
        t.record(false);
        assert_eq!(
            decide(OnLoss::Fence, &t, alone),
            Verdict::Act(OnLoss::Fence)
        );
        t.record(true);
        assert_eq!(decide(OnLoss::Fence, &t, alone), Verdict::Healthy);
    }

    #[test]
    fn only_an_acting_migrate_policy_turns_the_node_red() {
        assert_eq!(Verdict::Act(OnLoss::Migrate).health(), "red");
        for v in [
            Verdict::Healthy,
            Verdict::Settling,
            Verdict::PeersUnknown,
            Verdict::NetworkWide(Peers {
                watching: 3,
                lost: 2,
            }),
            Verdict::Act(OnLoss::Fence),
        ] {
            assert_eq!(v.health(), "green", "{v:?}");
        }
    }

    #[test]
    fn peers_are_read_from_attrd_updater_and_this_node_counts_as_lost() {
        let out = "name=\"paddock-net-storage\" host=\"node1\" value=\"ok\"\n\
                   name=\"paddock-net-storage\" host=\"node2\" value=\"lost\"\n\
                   name=\"paddock-net-storage\" host=\"node3\" value=\"ok\"\n";
        assert_eq!(
            peers_from_attrd(out, "node1"),
            Peers {
                watching: 3,
                lost: 2
            }
        );
        assert_eq!(
            peers_from_attrd(out, "node2"),
            Peers {
                watching: 3,
                lost: 1
            }
        );
        assert_eq!(
            peers_from_attrd("", "node1"),
            Peers {
                watching: 1,
                lost: 1
            }
        );
    }

    #[test]
    fn states_round_trip_by_name() {
        for s in [NetState::Starting, NetState::Ok, NetState::Lost] {
            assert_eq!(NetState::from_name(s.name()), Some(s));
        }
        assert_eq!(NetState::from_name("maybe"), None);
    }
}
