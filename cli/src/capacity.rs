//! `paddock capacity`: which resources would stay down after node failures, per failover
//! segment, and the reserve left. Paddock's placement model answers where it can do so exactly
//! (milliseconds per scenario); Pacemaker's own scheduler (crm_simulate, one transition per
//! scenario) answers where it cannot. `--segment-rules` prints the location rules that keep
//! each VM inside its segment.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{bail, Result};
use serde::Serialize;

use crate::cib::{self, Amounts, Cib, Kind, SEGMENT_ATTRIBUTE};
use crate::placement::Model;
use crate::scheduler::{self, CibFile, Placement, Source};

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
    /// Who answers: model (Paddock's placement model), pacemaker (crm_simulate, one
    /// transition per scenario: minutes on large clusters), auto (the model wherever it can
    /// answer exactly, else crm_simulate)
    #[arg(long, value_enum, default_value_t = Engine::Auto)]
    pub engine: Engine,
    /// Print, instead of the check, the commands (pcs or crm shell) that keep each running
    /// primitive inside the failover segment of its node, for those not kept there yet
    #[arg(long, value_enum, value_name = "SHELL")]
    pub segment_rules: Option<Shell>,
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    Auto,
    Pacemaker,
    Model,
}

/// Whose command syntax `--segment-rules` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    Pcs,
    Crm,
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
    /// Who answered: model or pacemaker.
    pub engine: Engine,
}

/// A location rule `--segment-rules` proposes.
#[derive(Debug, Serialize)]
pub struct SegmentRule {
    pub resource: String,
    pub segment: String,
    pub command: String,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub source: String,
    pub running: usize,
    pub failures_per_segment: u32,
    pub scenarios: Vec<Scenario>,
    /// Why crm_simulate answered some scenarios (empty when the model answered them all).
    pub pacemaker_because: Vec<String>,
    /// With --segment-rules: the rules, instead of scenarios.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment_rules: Option<Vec<SegmentRule>>,
    pub ok: bool,
    /// Resource → `priority=N memory=M`, for the text report.
    #[serde(skip)]
    described: BTreeMap<String, String>,
}

pub fn run(args: &Args) -> Result<Report> {
    let source = match &args.cib {
        Some(path) => Source::Saved(path.clone()),
        None => Source::Live,
    };
    // read once: the model and crm_simulate answer about the same CIB
    let (text, file) = source.snapshot()?;
    let cib = Cib::parse(&text)?;
    let now = scheduler::current_in(file.path())?;
    if let Some(shell) = args.segment_rules {
        let rules = segment_rules(&cib, &now, shell, args.include_stonith);
        return Ok(Report {
            source: source.describe(),
            running: 0,
            failures_per_segment: args.failures,
            scenarios: Vec::new(),
            pacemaker_because: Vec::new(),
            segment_rules: Some(rules),
            ok: true,
            described: BTreeMap::new(),
        });
    }
    let candidates = candidate_nodes(&now, &args.node)?;
    let running: Vec<String> = now
        .running
        .iter()
        .filter(|(id, nodes)| !nodes.is_empty() && (args.include_stonith || !is_fencing(&now, id)))
        .filter(|(id, _)| now.troubled.get(*id).is_none_or(|t| t != "orphaned"))
        .map(|(id, _)| id.clone())
        .collect();
    let engines = Engines::new(args.engine, &cib, &now, file)?;
    let mut scenarios = Vec::new();
    let mut because = Vec::new();
    // First the cluster as it is: one already over capacity loses resources without a failure.
    let baseline = evaluate(&engines, &cib, &now, &running, &[], "", &mut because)?;
    if !baseline.not_restarted.is_empty() {
        scenarios.push(baseline);
    }
    for (segment, nodes) in by_segment(&cib, &candidates) {
        for failed in combinations(&nodes, args.failures as usize) {
            let failed: Vec<&str> = failed.iter().map(String::as_str).collect();
            scenarios.push(evaluate(
                &engines,
                &cib,
                &now,
                &running,
                &failed,
                &segment,
                &mut because,
            )?);
        }
    }
    let ok = scenarios.iter().all(|s| s.not_restarted.is_empty());
    let described = running
        .iter()
        .map(|id| (id.clone(), cib.describe(id)))
        .collect();
    Ok(Report {
        source: source.describe(),
        running: running.len(),
        failures_per_segment: args.failures,
        scenarios,
        pacemaker_because: because,
        segment_rules: None,
        ok,
        described,
    })
}

/// The model (when it may answer) and crm_simulate on the same CIB file.
struct Engines {
    chosen: Engine,
    /// The model, or why it cannot answer for this CIB.
    model: std::result::Result<Model, String>,
    file: CibFile,
}

impl Engines {
    fn new(chosen: Engine, cib: &Cib, now: &Placement, file: CibFile) -> Result<Engines> {
        let model = match chosen {
            Engine::Pacemaker => Err("--engine pacemaker".to_string()),
            _ => Model::new(cib, now, node_orders_if_needed(cib).as_ref()),
        };
        if let (Engine::Model, Err(why)) = (chosen, &model) {
            bail!("the placement model cannot answer for this CIB ({why}); use --engine auto or pacemaker");
        }
        Ok(Engines {
            chosen,
            model,
            file,
        })
    }

    /// The placement after `failed` fail, who answered, and why not the model (if so).
    fn after_failing(&self, failed: &[&str]) -> Result<(Placement, Engine, Option<String>)> {
        let why_not = match &self.model {
            Ok(model) => match model.after_failing(failed) {
                Ok(after) => return Ok((after, Engine::Model, None)),
                Err(why) => why,
            },
            Err(why) => why.clone(),
        };
        if self.chosen == Engine::Model {
            bail!(
                "the placement model cannot answer if {} fail(s): {why_not}; use --engine auto or pacemaker",
                failed.join("+")
            );
        }
        let after = scheduler::after_failing(&self.file.source(), failed)?;
        let why = (self.chosen == Engine::Auto).then_some(why_not);
        Ok((after, Engine::Pacemaker, why))
    }
}

/// Pacemaker's own node orders, asked of it only where its node comparisons can be
/// intransitive (balanced placement over several utilization attributes); None when not
/// needed or not to be had (the model then leaves such ties to crm_simulate).
fn node_orders_if_needed(cib: &Cib) -> Option<scheduler::NodeOrders> {
    let attributes: std::collections::BTreeSet<&String> =
        cib.nodes.iter().flat_map(|n| n.capacity.keys()).collect();
    if cib.strategy != cib::Strategy::Balanced || attributes.len() < 2 {
        return None;
    }
    let nodes: Vec<(String, String)> = cib
        .nodes
        .iter()
        .map(|n| (n.id.clone(), n.name.clone()))
        .collect();
    scheduler::node_orders(&nodes).ok().flatten()
}

/// For each primitive running on a node of a segment and not kept in that segment by its
/// location constraints yet, the command adding the rule that keeps it there.
pub fn segment_rules(
    cib: &Cib,
    now: &Placement,
    shell: Shell,
    include_stonith: bool,
) -> Vec<SegmentRule> {
    let mut rules = Vec::new();
    for resource in cib.resources.iter().filter(|r| r.kind == Kind::Primitive) {
        let Some([node]) = now.running.get(&resource.id).map(Vec::as_slice) else {
            continue;
        };
        let segment = cib.segment(node);
        if segment.is_empty()
            || (!include_stonith && is_fencing(now, &resource.id))
            || cib::confining_segment(cib, &resource.id).as_deref() == Some(segment)
        {
            continue;
        }
        let id = &resource.id;
        let value = shell_quoted(segment);
        let command = match shell {
            Shell::Pcs => format!(
                "pcs constraint location {id} rule score=-INFINITY {SEGMENT_ATTRIBUTE} ne {value}"
            ),
            Shell::Crm => format!(
                "crm configure location {id}-in-{} {id} rule -inf: {SEGMENT_ATTRIBUTE} ne {value}",
                xml_id_part(segment)
            ),
        };
        rules.push(SegmentRule {
            resource: id.clone(),
            segment: segment.to_string(),
            command,
        });
    }
    rules
}

/// A value as one shell word.
fn shell_quoted(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:/@+".contains(c));
    if plain {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

/// A segment name made fit for a constraint id.
fn xml_id_part(value: &str) -> String {
    value
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect()
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
    engines: &Engines,
    cib: &Cib,
    now: &Placement,
    running: &[String],
    failed: &[&str],
    segment: &str,
    because: &mut Vec<String>,
) -> Result<Scenario> {
    let (after, engine, why) = engines.after_failing(failed)?;
    if let Some(why) = why {
        let scenario = if failed.is_empty() {
            "no failure".to_string()
        } else {
            failed.join("+")
        };
        because.push(format!("{scenario}: {why}"));
    }
    let mut scenario = Scenario {
        failed: failed.iter().map(|n| n.to_string()).collect(),
        segment: segment.to_string(),
        restarted: Vec::new(),
        not_restarted: Vec::new(),
        reserve: Amounts::new(),
        engine,
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
    /// The report for people: one line per scenario, then the verdict (or, with
    /// --segment-rules, the commands).
    pub fn text(&self, cib_describe: impl Fn(&str) -> String) -> String {
        if let Some(rules) = &self.segment_rules {
            return rules_text(rules);
        }
        let failures = self.scenarios.iter().filter(|s| !s.failed.is_empty());
        let by_model = failures
            .clone()
            .filter(|s| s.engine == Engine::Model)
            .count();
        let by_pacemaker = failures.count() - by_model;
        let engines = match (by_model, by_pacemaker) {
            (m, 0) => format!("{m} failure scenario(s) answered by Paddock's placement model"),
            (0, p) => format!("{p} failure scenario(s) simulated by crm_simulate"),
            (m, p) => format!(
                "{} failure scenario(s): {m} answered by Paddock's placement model, {p} simulated by crm_simulate",
                m + p
            ),
        };
        let mut out = format!(
            "paddock capacity: {} running resources, {engines}, on the {}\n",
            self.running, self.source
        );
        if let Some(first) = self.pacemaker_because.first() {
            let more = match self.pacemaker_because.len() {
                1 => String::new(),
                n => format!(" (and {} more)", n - 1),
            };
            out.push_str(&format!(
                "crm_simulate where the model cannot answer: {first}{more}\n"
            ));
        }
        let describe = |id: &str| match cib_describe(id) {
            d if d.is_empty() => self.described.get(id).cloned().unwrap_or_default(),
            d => d,
        };
        for scenario in &self.scenarios {
            out.push_str(&scenario.line(describe));
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

/// --segment-rules for people: a comment, then one command per line (fit for a shell).
fn rules_text(rules: &[SegmentRule]) -> String {
    if rules.is_empty() {
        return format!(
            "# every running primitive on a node with a {SEGMENT_ATTRIBUTE} is kept in that segment already\n"
        );
    }
    let mut out = format!(
        "# {} running primitive(s) not yet kept in the failover segment ({SEGMENT_ATTRIBUTE}) of their node:\n",
        rules.len()
    );
    for rule in rules {
        out.push_str(&rule.command);
        out.push('\n');
    }
    out
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
