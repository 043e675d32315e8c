//! `paddock capacity`: which resources would stay down after node failures, asked of
//! Pacemaker's own scheduler, per failover segment, and the reserve left.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{bail, Result};
use serde::Serialize;

use crate::cib::{Amounts, Cib, SEGMENT_ATTRIBUTE};
use crate::scheduler::{self, Placement, Source};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A saved CIB (cibadmin --query > FILE) instead of the live cluster
    #[arg(long, value_name = "FILE")]
    pub cib: Option<PathBuf>,
    /// Simulate the failure of this node only (repeatable; default: every online node)
    #[arg(long, value_name = "NODE")]
    pub node: Vec<String>,
    /// How many hosts may fail at once in each failover segment
    #[arg(long, value_name = "K", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=8))]
    pub failures: u32,
    /// Also count fence devices (left out by default)
    #[arg(long)]
    pub include_stonith: bool,
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
}

/// One simulated failure and what the scheduler does about it.
#[derive(Debug, Serialize)]
pub struct Scenario {
    /// The failed nodes (none: the cluster as it is).
    pub failed: Vec<String>,
    pub segment: String,
    /// `resource -> nodes` for each resource that ran on a failed node and runs again.
    pub restarted: Vec<(String, Vec<String>)>,
    /// Resources that ran before and would stay stopped.
    pub not_restarted: Vec<String>,
    /// Per utilization attribute: the segment's surviving capacity minus what runs in it.
    pub reserve: Amounts,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub source: String,
    pub running: usize,
    pub failures_per_segment: u32,
    pub scenarios: Vec<Scenario>,
    pub ok: bool,
}

pub fn run(args: &Args) -> Result<Report> {
    let source = match &args.cib {
        Some(path) => Source::Saved(path.clone()),
        None => Source::Live,
    };
    let cib = Cib::parse(&source.cib_text()?)?;
    let now = scheduler::current(&source)?;
    let candidates = candidate_nodes(&now, &args.node)?;
    let running: Vec<String> = now
        .running
        .iter()
        .filter(|(id, nodes)| !nodes.is_empty() && (args.include_stonith || !is_fencing(&now, id)))
        .map(|(id, _)| id.clone())
        .collect();
    let mut scenarios = Vec::new();
    // First the cluster as it is: one already over capacity loses resources without a failure.
    let baseline = evaluate(&source, &cib, &now, &running, &[], "")?;
    if !baseline.not_restarted.is_empty() {
        scenarios.push(baseline);
    }
    for (segment, nodes) in by_segment(&cib, &candidates) {
        for failed in combinations(&nodes, args.failures as usize) {
            let failed: Vec<&str> = failed.iter().map(String::as_str).collect();
            scenarios.push(evaluate(&source, &cib, &now, &running, &failed, &segment)?);
        }
    }
    let ok = scenarios.iter().all(|s| s.not_restarted.is_empty());
    Ok(Report {
        source: source.describe(),
        running: running.len(),
        failures_per_segment: args.failures,
        scenarios,
        ok,
    })
}

/// The nodes whose failure is simulated: those asked for (which must exist), else every
/// online node.
fn candidate_nodes(now: &Placement, asked: &[String]) -> Result<Vec<String>> {
    if asked.is_empty() {
        let online: Vec<String> = now
            .online
            .iter()
            .filter(|(_, up)| **up)
            .map(|(n, _)| n.clone())
            .collect();
        if online.is_empty() {
            bail!("no online node to fail");
        }
        return Ok(online);
    }
    for node in asked {
        if !now.online.contains_key(node) {
            let known: Vec<&str> = now.online.keys().map(String::as_str).collect();
            bail!("unknown node '{node}' (nodes: {})", known.join(", "));
        }
    }
    Ok(asked.to_vec())
}

fn is_fencing(now: &Placement, id: &str) -> bool {
    now.agents
        .get(id)
        .is_some_and(|a| a.starts_with("stonith:"))
}

/// Nodes grouped by failover segment, in name order.
fn by_segment(cib: &Cib, nodes: &[String]) -> BTreeMap<String, Vec<String>> {
    let mut segments: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for node in nodes {
        segments
            .entry(cib.segment(node).to_string())
            .or_default()
            .push(node.clone());
    }
    segments
}

/// Every choice of `k` of `items` (all of them when there are no more than `k`), in order.
pub fn combinations(items: &[String], k: usize) -> Vec<Vec<String>> {
    if k >= items.len() {
        return vec![items.to_vec()];
    }
    if k == 0 {
        return vec![Vec::new()];
    }
    let mut all = Vec::new();
    for (i, first) in items.iter().enumerate() {
        for mut rest in combinations(&items[i + 1..], k - 1) {
            if rest.len() == k - 1 {
                rest.insert(0, first.clone());
                all.push(rest);
            }
        }
    }
    all
}

fn evaluate(
    source: &Source,
    cib: &Cib,
    now: &Placement,
    running: &[String],
    failed: &[&str],
    segment: &str,
) -> Result<Scenario> {
    let after = scheduler::after_failing(source, failed)?;
    let mut scenario = Scenario {
        failed: failed.iter().map(|n| n.to_string()).collect(),
        segment: segment.to_string(),
        restarted: Vec::new(),
        not_restarted: Vec::new(),
        reserve: Amounts::new(),
    };
    for id in running {
        let nodes_after: Vec<String> = after
            .running
            .get(id)
            .into_iter()
            .flatten()
            .filter(|n| !failed.contains(&n.as_str()))
            .cloned()
            .collect();
        let was_on_failed = now.running[id].iter().any(|n| failed.contains(&n.as_str()));
        if nodes_after.is_empty() {
            scenario.not_restarted.push(id.clone());
        } else if was_on_failed {
            scenario.restarted.push((id.clone(), nodes_after));
        }
    }
    scenario.reserve = reserve(cib, &after, failed, segment);
    Ok(scenario)
}

/// The segment's capacity on its surviving nodes minus the utilization of what runs there.
fn reserve(cib: &Cib, after: &Placement, failed: &[&str], segment: &str) -> Amounts {
    let survivors: Vec<&String> = cib
        .segments
        .iter()
        .filter(|(node, s)| s.as_str() == segment && !failed.contains(&node.as_str()))
        .map(|(node, _)| node)
        .collect();
    let mut left = Amounts::new();
    for node in &survivors {
        for (attribute, amount) in cib.capacity.get(*node).into_iter().flatten() {
            *left.entry(attribute.clone()).or_default() += amount;
        }
    }
    for (id, nodes) in &after.running {
        // a clone counts once per instance in the segment
        let instances = nodes.iter().filter(|n| survivors.contains(n)).count() as i64;
        for (attribute, amount) in cib.utilization(id) {
            if let Some(value) = left.get_mut(&attribute) {
                *value -= amount * instances;
            }
        }
    }
    left
}

impl Report {
    /// The report for people: one line per scenario, then the verdict.
    pub fn text(&self, cib_describe: impl Fn(&str) -> String) -> String {
        let mut out = format!(
            "paddock capacity: {} running resources, {} failure scenario(s) simulated by crm_simulate on the {}\n",
            self.running,
            self.scenarios.iter().filter(|s| !s.failed.is_empty()).count(),
            self.source
        );
        for scenario in &self.scenarios {
            out.push_str(&scenario.line(&cib_describe));
            out.push('\n');
        }
        let lost: usize = self.scenarios.iter().map(|s| s.not_restarted.len()).sum();
        if self.ok {
            out.push_str(&format!(
                "RESULT: OK, every resource comes back after any {} node failure(s) per segment\n",
                self.failures_per_segment
            ));
        } else {
            out.push_str(&format!(
                "RESULT: FAIL, {lost} resource(s) would stay stopped (counted over the scenarios above)\n"
            ));
        }
        out
    }
}

impl Scenario {
    fn line(&self, describe: impl Fn(&str) -> String) -> String {
        let mut line = match self.failed.as_slice() {
            [] => "no failure: already too little room".to_string(),
            [one] => format!("{one} fails: "),
            several => format!("{} fail: ", several.join("+")),
        };
        if !self.failed.is_empty() {
            if self.restarted.is_empty() {
                line.push_str("nothing to restart");
            } else {
                let moved: Vec<String> = self
                    .restarted
                    .iter()
                    .map(|(id, nodes)| format!("{id}->{}", nodes.join(",")))
                    .collect();
                line.push_str(&format!("restarted {}", moved.join(" ")));
            }
        }
        if !self.not_restarted.is_empty() {
            let lost: Vec<String> = self
                .not_restarted
                .iter()
                .map(|id| match describe(id) {
                    d if d.is_empty() => id.clone(),
                    d => format!("{id}({d})"),
                })
                .collect();
            line.push_str(&format!("; NOT RESTARTED: {}", lost.join(" ")));
        }
        if !self.failed.is_empty() && !self.reserve.is_empty() {
            let reserve: Vec<String> = self
                .reserve
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let segment = if self.segment.is_empty() {
                String::new()
            } else {
                format!(" in {SEGMENT_ATTRIBUTE} {}", self.segment)
            };
            line.push_str(&format!("; reserve left{segment}: {}", reserve.join(" ")));
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn combinations_of_k_nodes() {
        let nodes = names(&["a", "b", "c", "d"]);
        assert_eq!(combinations(&nodes, 1).len(), 4);
        let pairs = combinations(&nodes, 2);
        assert_eq!(pairs.len(), 6);
        assert_eq!(pairs[0], names(&["a", "b"]));
        assert_eq!(pairs[5], names(&["c", "d"]));
        assert_eq!(combinations(&nodes, 3).len(), 4);
        assert_eq!(
            combinations(&names(&["a", "b"]), 2),
            vec![names(&["a", "b"])]
        );
        assert_eq!(combinations(&names(&["a"]), 3), vec![names(&["a"])]);
    }
}
