//! Paddock's placement model: where Pacemaker's scheduler puts resources once some nodes have
//! failed, worked out from its documented rules (Pacemaker Explained, "Utilization and
//! Placement Strategy") and from its observed behaviour, checked against crm_simulate; in
//! milliseconds, where one crm_simulate transition over a thousand VMs takes half a minute.
//!
//! The scheduler assigns the top-level resources one after the other: by priority; then,
//! unless the strategy is `default` (CIB order), what runs before what does not and by its
//! scores; last in CIB order. Each goes to the allowed node with the highest score (location
//! constraints, stickiness where it runs); nodes with too little capacity left are not allowed
//! unless the strategy is `default`; ties go by the strategy (most free capacity, fewest
//! resources, the node it runs on, the node name). What is assigned first takes room first: a
//! high-priority VM whose host failed may take the place of a lower-priority one.
//!
//! Resources the model does not place itself (colocated, in a mandatory order, groups,
//! clones...) may only stay where they run; when a failure would move one, the model says it
//! cannot answer, and crm_simulate is asked instead.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use crate::cib::{self, add_scores, Amounts, Cib, Kind, Score, Strategy, INFINITY};
use crate::scheduler::{NodeOrders, Placement};

/// The model of one CIB, ready to answer for any set of failed nodes.
pub struct Model {
    strategy: Strategy,
    /// stonith-enabled: until fenced, a failed node still counts as where its resources run.
    fencing: bool,
    /// Pacemaker's node orders (indices), when known: they settle ties its comparisons leave.
    orders: Option<Orders>,
    nodes: Vec<ModelNode>,
    items: Vec<Item>,
    /// Every resource id crm_mon listed, so that the answer lists them all.
    listed: Vec<String>,
}

struct Orders {
    /// The cluster's node list.
    listed: Vec<usize>,
    /// A resource's table of allowed nodes, as it iterates.
    allowed: Option<Vec<usize>>,
}

struct ModelNode {
    name: String,
    capacity: Amounts,
    /// Online and able to take resources (not standby...).
    up: bool,
}

/// A top-level resource.
struct Item {
    id: String,
    priority: Score,
    stickiness: Score,
    utilization: Amounts,
    /// Not meant to run (target-role=Stopped).
    stopped_by_role: bool,
    /// Node index → the sum of its location scores there (fail-count bans included).
    location: Vec<Score>,
    /// Each active instance: the primitive itself, a group's members, a clone's instances.
    instances: Vec<Instance>,
    /// Why the model may only leave it where it runs (None: it places it).
    pinned: Option<String>,
    /// A clone whose instance on a failed node just stops (see `Kind::PlainClone`).
    plain_clone: bool,
}

struct Instance {
    /// As crm_mon names it (`vm-db`, `svc`, `svc:1`).
    id: String,
    node: usize,
    utilization: Amounts,
}

impl Item {
    /// The node it runs on, when it runs on exactly one.
    fn current(&self) -> Option<usize> {
        match self.instances.as_slice() {
            [one] => Some(one.node),
            _ => None,
        }
    }
}

/// How far a scenario's assignment has got: per node, what is left and how many resources.
struct Load {
    remaining: Vec<Amounts>,
    assigned: Vec<usize>,
}

impl Model {
    /// The model of `cib` with the resources where `now` says they run; Err says why the model
    /// cannot answer for this CIB at all.
    pub fn new(cib: &Cib, now: &Placement, orders: Option<&NodeOrders>) -> Result<Model, String> {
        if let Some(why) = cib.unsupported.first() {
            return Err(why.clone());
        }
        let nodes: Vec<ModelNode> = cib
            .nodes
            .iter()
            .map(|n| ModelNode {
                name: n.name.clone(),
                capacity: n.capacity.clone(),
                up: now.online.get(&n.name).copied().unwrap_or(false)
                    && !now.unable.contains(&n.name),
            })
            .collect();
        if let Some(stranger) = now
            .online
            .keys()
            .find(|name| !nodes.iter().any(|n| &n.name == *name))
        {
            return Err(format!("node {stranger} is not in the configuration"));
        }
        let index_of: BTreeMap<&str, usize> = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.name.as_str(), i))
            .collect();
        let mut items = Vec::with_capacity(cib.resources.len());
        for resource in &cib.resources {
            items.push(Item::new(cib, resource, now, &index_of));
        }
        let orders = orders.and_then(|o| {
            let indices = |names: &[String]| -> Option<Vec<usize>> {
                let all: Option<Vec<usize>> = names
                    .iter()
                    .map(|n| index_of.get(n.as_str()).copied())
                    .collect();
                all.filter(|all| all.len() == nodes.len())
            };
            Some(Orders {
                listed: indices(&o.listed)?,
                // the probe's table of allowed nodes is every node's only in a symmetric cluster
                allowed: indices(&o.allowed).filter(|_| cib.symmetric),
            })
        });
        Ok(Model {
            strategy: cib.strategy,
            fencing: cib.fencing,
            orders,
            nodes,
            items,
            listed: now.running.keys().cloned().collect(),
        })
    }

    /// Where everything runs once `failed` nodes are gone (and fenced), as crm_simulate's
    /// revised status would say; Err says why the model cannot tell for this scenario.
    pub fn after_failing(&self, failed: &[&str]) -> Result<Placement, String> {
        let failed: BTreeSet<usize> = failed
            .iter()
            .filter_map(|name| self.nodes.iter().position(|n| n.name == *name))
            .collect();
        let can_host = |node: usize| self.nodes[node].up && !failed.contains(&node);
        let order = self.sort(&failed)?;
        let mut load = Load {
            remaining: self.nodes.iter().map(|n| n.capacity.clone()).collect(),
            assigned: vec![0; self.nodes.len()],
        };
        let mut after = Placement::default();
        for id in &self.listed {
            after.running.insert(id.clone(), Vec::new());
        }
        for (index, node) in self.nodes.iter().enumerate() {
            after.online.insert(node.name.clone(), can_host(index));
        }
        let mut placed: Vec<Option<usize>> = vec![None; self.items.len()];
        for &index in &order {
            let item = &self.items[index];
            if item.stopped_by_role {
                continue;
            }
            if let Some(why) = &item.pinned {
                self.keep_in_place(item, why, &failed, &can_host, &mut load, &mut after)?;
                continue;
            }
            if let Some(node) = self.choose(item, &failed, &load)? {
                load.take(node, &item.utilization);
                placed[index] = Some(node);
                after
                    .running
                    .insert(item.id.clone(), vec![self.nodes[node].name.clone()]);
            }
        }
        self.check_pinned_room(&placed)?;
        Ok(after)
    }

    /// The order the scheduler assigns resources in: by priority, then (unless the strategy
    /// is `default`, which keeps CIB order) what runs before what does not, by its score where
    /// it runs (location plus stickiness), then by the scores on every node, compared node by
    /// node in a fixed node order; last, CIB order.
    fn sort(&self, failed: &BTreeSet<usize>) -> Result<Vec<usize>, String> {
        let up = |node: usize| self.nodes[node].up && !failed.contains(&node);
        let mut order: Vec<usize> = (0..self.items.len()).collect();
        if self.strategy == Strategy::Default {
            order.sort_by(|a, b| {
                let (ia, ib) = (&self.items[*a], &self.items[*b]);
                ib.priority.cmp(&ia.priority).then(a.cmp(b))
            });
            return Ok(order);
        }
        let node_order = self.score_order(failed)?;
        // with fencing, what ran on a failed node is still active there (until fenced)
        let active = |node: usize| up(node) || (self.fencing && failed.contains(&node));
        let keys: Vec<(Score, Vec<Score>)> = self
            .items
            .iter()
            .map(|item| {
                let current = item.current().filter(|n| active(*n));
                let where_it_runs = current
                    .map(|n| item.weight(n, current))
                    .unwrap_or(-INFINITY);
                let scores = node_order
                    .iter()
                    .map(|n| item.weight(*n, current))
                    .collect();
                (where_it_runs, scores)
            })
            .collect();
        order.sort_by(|a, b| {
            let (ia, ib) = (&self.items[*a], &self.items[*b]);
            let (ka, kb) = (&keys[*a], &keys[*b]);
            ib.priority
                .cmp(&ia.priority)
                .then(kb.0.cmp(&ka.0))
                .then_with(|| kb.1.cmp(&ka.1))
                .then(a.cmp(b))
        });
        Ok(order)
    }

    /// The fixed node order resources compare their scores in: nodes that can take resources
    /// first, then (balanced) those with more capacity, then by name.
    fn score_order(&self, failed: &BTreeSet<usize>) -> Result<Vec<usize>, String> {
        let up = |node: usize| self.nodes[node].up && !failed.contains(&node);
        let weight = |node: usize| if up(node) { 0 } else { -INFINITY };
        let capacities: Vec<&Amounts> = self.nodes.iter().map(|n| &n.capacity).collect();
        let no_counts = vec![0; self.nodes.len()];
        let compare = |a: &usize, b: &usize| {
            self.compare_nodes(&weight, *a, *b, None, &capacities, &no_counts)
        };
        if let Some(orders) = &self.orders {
            return Ok(glib_sort(&orders.listed, &compare));
        }
        let mut order: Vec<usize> = (0..self.nodes.len()).collect();
        order.sort_by(compare);
        if let Some((a, b)) = first_intransitive(&order, &compare) {
            return Err(format!(
                "the capacities of {} and {} leave their order to the scheduler's sort",
                self.nodes[a].name, self.nodes[b].name
            ));
        }
        Ok(order)
    }

    /// The node a resource goes to, or None when it has none (no node allowed, no room).
    fn choose(
        &self,
        item: &Item,
        failed: &BTreeSet<usize>,
        load: &Load,
    ) -> Result<Option<usize>, String> {
        let current = item
            .current()
            .filter(|n| self.nodes[*n].up && !failed.contains(n));
        let fits =
            |node: usize| self.strategy == Strategy::Default || load.fits(node, &item.utilization);
        let eligible = |node: usize| {
            self.nodes[node].up
                && !failed.contains(&node)
                && item.weight(node, current) > -INFINITY
                && fits(node)
        };
        // what the scheduler sorts by: nodes it may not use count as -INFINITY
        let weight = |node: usize| {
            if eligible(node) {
                item.weight(node, current)
            } else {
                -INFINITY
            }
        };
        let remaining: Vec<&Amounts> = load.remaining.iter().collect();
        // the node it runs on breaks ties, even a failed one
        let preferred = item.current();
        let compare = |a: &usize, b: &usize| {
            self.compare_nodes(&weight, *a, *b, preferred, &remaining, &load.assigned)
        };
        let candidates: Vec<usize> = (0..self.nodes.len()).filter(|n| eligible(*n)).collect();
        let Some(best) = candidates.iter().copied().min_by(compare) else {
            return Ok(None);
        };
        let best_weight = weight(best);
        // Among the nodes with the best positive score, the one it runs on wins whatever the
        // strategy says (no move for nothing).
        if let Some(here) = current {
            if best_weight > 0 && eligible(here) && weight(here) == best_weight {
                return Ok(Some(here));
            }
        }
        // a negative score keeps a resource off a node as surely as -INFINITY
        if best_weight < 0 {
            return Ok(None);
        }
        let beats_all = candidates
            .iter()
            .all(|n| *n == best || compare(&best, n) == Ordering::Less);
        if beats_all {
            return Ok(Some(best));
        }
        // No node beats every other one (free capacity over several attributes does not
        // compare transitively): the scheduler's pick is the first of its own sort, which
        // starts from its table of allowed nodes.
        match self.orders.as_ref().and_then(|o| o.allowed.as_ref()) {
            Some(allowed) => {
                // the list is built from the table backwards
                let input: Vec<usize> = allowed.iter().rev().copied().collect();
                Ok(glib_sort(&input, &compare).first().copied())
            }
            None => Err(format!(
                "{} ties between {} and others, in an order only the scheduler's sort knows",
                item.id, self.nodes[best].name
            )),
        }
    }

    /// Pacemaker's comparison of two nodes for a resource (Less: `a` first): the higher
    /// score; then per placement strategy the most free capacity (balanced), the fewest
    /// resources assigned so far and the node it runs on (not minimal); then the node name.
    fn compare_nodes(
        &self,
        weight: &dyn Fn(usize) -> Score,
        a: usize,
        b: usize,
        preferred: Option<usize>,
        free: &[&Amounts],
        assigned: &[usize],
    ) -> Ordering {
        let by_score = weight(b).cmp(&weight(a));
        let by_name = || self.nodes[a].name.cmp(&self.nodes[b].name);
        if self.strategy == Strategy::Minimal {
            return by_score.then_with(by_name);
        }
        let by_capacity = || match self.strategy {
            Strategy::Balanced => compare_free(free[b], free[a]),
            _ => Ordering::Equal,
        };
        let by_count = || assigned[a].cmp(&assigned[b]);
        let by_preferred = || (Some(b) == preferred).cmp(&(Some(a) == preferred));
        by_score
            .then_with(by_capacity)
            .then_with(by_count)
            .then_with(by_preferred)
            .then_with(by_name)
    }

    /// A resource the model does not move stays where it runs; when the failure takes its
    /// node, or leaves it no room, the model cannot tell what the scheduler does.
    fn keep_in_place(
        &self,
        item: &Item,
        why: &str,
        failed: &BTreeSet<usize>,
        can_host: &dyn Fn(usize) -> bool,
        load: &mut Load,
        after: &mut Placement,
    ) -> Result<(), String> {
        for Instance {
            id,
            node,
            utilization,
        } in &item.instances
        {
            if !can_host(*node) {
                if item.plain_clone && failed.contains(node) {
                    self.instance_has_nowhere_to_go(item, can_host)?;
                    continue;
                }
                return Err(format!("{} would have to move ({why})", item.id));
            }
            if self.strategy != Strategy::Default && !load.fits(*node, utilization) {
                return Err(format!(
                    "{} could lose its room on {} ({why})",
                    item.id, self.nodes[*node].name
                ));
            }
            load.take(*node, utilization);
            let nodes = after.running.entry(id.clone()).or_default();
            if !nodes.contains(&self.nodes[*node].name) {
                nodes.push(self.nodes[*node].name.clone());
            }
        }
        Ok(())
    }

    /// A plain clone's instance on a failed node stops when every node that could take it
    /// runs an instance already (one per node); otherwise it may move, which the model does
    /// not follow.
    fn instance_has_nowhere_to_go(
        &self,
        item: &Item,
        can_host: &dyn Fn(usize) -> bool,
    ) -> Result<(), String> {
        let free = (0..self.nodes.len()).find(|n| {
            can_host(*n)
                && item.location[*n] > -INFINITY
                && !item.instances.iter().any(|i| i.node == *n)
        });
        match free {
            None => Ok(()),
            Some(n) => Err(format!(
                "an instance of {} could move to {}",
                item.id, self.nodes[n].name
            )),
        }
    }

    /// A pinned resource with utilization and the same priority as a resource the model
    /// placed on its node: which of the two the scheduler assigns first is not known, so
    /// neither is which keeps the room.
    fn check_pinned_room(&self, placed: &[Option<usize>]) -> Result<(), String> {
        if self.strategy == Strategy::Default {
            return Ok(());
        }
        for pinned in self
            .items
            .iter()
            .filter(|i| i.pinned.is_some() && !i.utilization.is_empty())
        {
            for (item, node) in self.items.iter().zip(placed) {
                let Some(node) = node else { continue };
                let moved_in = item.current() != Some(*node);
                let shares = pinned.instances.iter().any(|i| i.node == *node);
                if moved_in && shares && item.priority == pinned.priority {
                    return Err(format!(
                        "{} and {} compete for room on {}",
                        pinned.id, item.id, self.nodes[*node].name
                    ));
                }
            }
        }
        Ok(())
    }
}

impl Item {
    fn new(
        cib: &Cib,
        resource: &cib::Resource,
        now: &Placement,
        index_of: &BTreeMap<&str, usize>,
    ) -> Item {
        let mut pinned = resource.unmodelled.clone();
        let mut instances = Vec::new();
        for (id, nodes) in &now.running {
            let primitive = id.split(':').next().unwrap_or(id);
            if !resource.primitives.iter().any(|p| p == primitive) {
                continue;
            }
            if let Some(trouble) = now.troubled.get(id) {
                pinned.get_or_insert_with(|| trouble.clone());
            }
            for node in nodes {
                match index_of.get(node.as_str()) {
                    Some(index) => instances.push(Instance {
                        id: id.clone(),
                        node: *index,
                        utilization: cib.utilization(id),
                    }),
                    None => {
                        pinned.get_or_insert_with(|| {
                            format!("runs on {node}, not a configured node")
                        });
                    }
                }
            }
        }
        if resource.kind == Kind::Primitive && instances.len() > 1 {
            pinned.get_or_insert_with(|| "active on several nodes".to_string());
        }
        let mut location = Vec::with_capacity(cib.nodes.len());
        for node in &cib.nodes {
            let score = match cib::location_score(cib, &resource.id, node) {
                Some(score) => score,
                None => {
                    pinned.get_or_insert_with(|| "a location rule's score-attribute".to_string());
                    0
                }
            };
            let base = if cib.symmetric || has_location(cib, &resource.id, &node.name) {
                score
            } else {
                // an opt-in cluster: only nodes a constraint names are allowed
                -INFINITY
            };
            location.push(add_scores(base, fail_count_ban(cib, resource, &node.name)));
        }
        if cib.fail_counts.contains_key(&resource.id) && resource.failure_timeout {
            pinned.get_or_insert_with(|| "failures that expire (failure-timeout)".to_string());
        }
        Item {
            id: resource.id.clone(),
            priority: resource.priority,
            stickiness: resource.stickiness,
            utilization: resource.utilization.clone(),
            stopped_by_role: resource.stopped_by_role,
            location,
            instances,
            plain_clone: resource.kind == Kind::PlainClone,
            pinned,
        }
    }

    /// Its score on a node: location constraints, plus stickiness where it runs.
    fn weight(&self, node: usize, current: Option<usize>) -> Score {
        let base = self.location[node];
        if current == Some(node) {
            add_scores(base, self.stickiness)
        } else {
            base
        }
    }
}

/// Whether a location constraint names this resource on this node (for opt-in clusters).
fn has_location(cib: &Cib, resource: &str, node: &str) -> bool {
    let attributes = cib
        .nodes
        .iter()
        .find(|n| n.name == node)
        .map(|n| &n.attributes);
    cib.locations
        .iter()
        .filter(|l| l.resource == resource)
        .any(|l| match &l.how {
            cib::LocationScore::Node { node: named, .. } => named == node,
            cib::LocationScore::Rules(rules) => attributes
                .is_some_and(|a| rules.iter().any(|r| matches!(r.score_on(a), Ok(Some(_))))),
        })
}

/// -INFINITY where the resource failed migration-threshold times (0: never banned).
fn fail_count_ban(cib: &Cib, resource: &cib::Resource, node: &str) -> Score {
    let count = cib
        .fail_counts
        .get(&resource.id)
        .and_then(|by_node| by_node.get(node))
        .copied()
        .unwrap_or(0);
    let threshold = resource.migration_threshold;
    if threshold > 0 && count > 0 && count >= threshold {
        -INFINITY
    } else {
        0
    }
}

/// GLib's list sort, which Pacemaker's sorts are: a merge sort that splits after the first
/// half (rounded down) and takes from the left on ties. With a comparison that is not
/// transitive, its result depends on that, so it is done the same way.
fn glib_sort(list: &[usize], compare: &dyn Fn(&usize, &usize) -> Ordering) -> Vec<usize> {
    if list.len() < 2 {
        return list.to_vec();
    }
    let (left, right) = list.split_at(list.len() / 2);
    let (left, right) = (glib_sort(left, compare), glib_sort(right, compare));
    let mut merged = Vec::with_capacity(list.len());
    let (mut l, mut r) = (0, 0);
    while l < left.len() && r < right.len() {
        if compare(&left[l], &right[r]) != Ordering::Greater {
            merged.push(left[l]);
            l += 1;
        } else {
            merged.push(right[r]);
            r += 1;
        }
    }
    merged.extend_from_slice(&left[l..]);
    merged.extend_from_slice(&right[r..]);
    merged
}

/// Two elements of a sorted list that the comparison does not order as the list does (None:
/// it is a total order on them, and any sort gives this list).
fn first_intransitive(
    sorted: &[usize],
    compare: &dyn Fn(&usize, &usize) -> Ordering,
) -> Option<(usize, usize)> {
    sorted.iter().enumerate().find_map(|(i, a)| {
        sorted[i + 1..]
            .iter()
            .find(|b| compare(a, b) != Ordering::Less)
            .map(|b| (*a, *b))
    })
}

/// Which node has more free capacity (Greater: `a`): the one with more of most attributes
/// (an attribute a node does not define counts as 0 there).
fn compare_free(a: &Amounts, b: &Amounts) -> Ordering {
    let names: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    let (mut a_more, mut b_more) = (0, 0);
    for name in names {
        let (x, y) = (
            a.get(name).copied().unwrap_or(0),
            b.get(name).copied().unwrap_or(0),
        );
        match x.cmp(&y) {
            Ordering::Greater => a_more += 1,
            Ordering::Less => b_more += 1,
            Ordering::Equal => {}
        }
    }
    a_more.cmp(&b_more)
}

impl Load {
    /// Whether what is left on `node` covers every attribute `need` asks for (an attribute
    /// the node does not define: none left).
    fn fits(&self, node: usize, need: &Amounts) -> bool {
        need.iter()
            .all(|(name, amount)| self.remaining[node].get(name).copied().unwrap_or(0) >= *amount)
    }

    fn take(&mut self, node: usize, need: &Amounts) {
        self.assigned[node] += 1;
        for (name, amount) in need {
            *self.remaining[node].entry(name.clone()).or_default() -= amount;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amounts(pairs: &[(&str, i64)]) -> Amounts {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    /// A CIB of `nodes` (name, memory) and `vms` (id, priority, memory), with stickiness 100.
    fn cib(strategy: &str, nodes: &[(&str, i64)], vms: &[(&str, i64, i64)]) -> Cib {
        let nodes: String = nodes
            .iter()
            .enumerate()
            .map(|(i, (name, memory))| {
                format!(r#"<node id="{i}" uname="{name}"><utilization id="u{i}"><nvpair id="u{i}m" name="memory" value="{memory}"/></utilization></node>"#)
            })
            .collect();
        let vms: String = vms
            .iter()
            .map(|(id, priority, memory)| {
                format!(r#"<primitive id="{id}" class="ocf" provider="pacemaker" type="Dummy"><meta_attributes id="{id}-m"><nvpair id="{id}-p" name="priority" value="{priority}"/></meta_attributes><utilization id="{id}-u"><nvpair id="{id}-um" name="memory" value="{memory}"/></utilization></primitive>"#)
            })
            .collect();
        let text = format!(
            r#"<cib have-quorum="1"><configuration><crm_config><cluster_property_set id="o"><nvpair id="o1" name="placement-strategy" value="{strategy}"/><nvpair id="o2" name="stonith-enabled" value="false"/></cluster_property_set></crm_config><nodes>{nodes}</nodes><resources>{vms}</resources><constraints/><rsc_defaults><meta_attributes id="d"><nvpair id="d1" name="resource-stickiness" value="100"/></meta_attributes></rsc_defaults></configuration><status/></cib>"#
        );
        Cib::parse(&text).expect("test CIB parses")
    }

    fn placement(running: &[(&str, &str)], nodes: &[&str]) -> Placement {
        let mut placement = Placement::default();
        for node in nodes {
            placement.online.insert(node.to_string(), true);
        }
        for (id, node) in running {
            placement
                .running
                .insert(id.to_string(), vec![node.to_string()]);
        }
        placement
    }

    fn where_runs(after: &Placement, id: &str) -> Vec<String> {
        after.running.get(id).cloned().unwrap_or_default()
    }

    #[test]
    fn a_displaced_high_priority_vm_takes_the_room_of_a_low_priority_one() {
        let cib = cib(
            "balanced",
            &[("n1", 4), ("n2", 4), ("n3", 4)],
            &[
                ("a", 1, 2),
                ("b", 0, 2),
                ("c", 0, 1),
                ("d", 0, 2),
                ("e", 0, 2),
            ],
        );
        let now = placement(
            &[
                ("a", "n1"),
                ("b", "n2"),
                ("c", "n2"),
                ("d", "n3"),
                ("e", "n3"),
            ],
            &["n1", "n2", "n3"],
        );
        let model = Model::new(&cib, &now, None).expect("modelled");
        let after = model.after_failing(&["n1"]).expect("answered");
        // a goes first, to n2 (both empty at that point, n2 first by name); b keeps n2, c
        // moves to n3 where d still fits and e no longer does
        assert_eq!(where_runs(&after, "a"), ["n2"]);
        assert_eq!(where_runs(&after, "c"), ["n3"]);
        assert!(where_runs(&after, "e").is_empty());
        // at equal priority, what still runs is assigned before what ran on the failed node
        let cib = cib_equal_priorities();
        let model = Model::new(&cib, &now, None).expect("modelled");
        let after = model.after_failing(&["n1"]).expect("answered");
        assert!(where_runs(&after, "a").is_empty());
        assert_eq!(where_runs(&after, "e"), ["n3"]);
    }

    fn cib_equal_priorities() -> Cib {
        cib(
            "balanced",
            &[("n1", 4), ("n2", 4), ("n3", 4)],
            &[
                ("a", 0, 2),
                ("b", 0, 2),
                ("c", 0, 1),
                ("d", 0, 2),
                ("e", 0, 2),
            ],
        )
    }

    #[test]
    fn the_default_strategy_ignores_capacity_and_balances_counts() {
        let cib = cib(
            "default",
            &[("n1", 1), ("n2", 1), ("n3", 1)],
            &[("a", 0, 5), ("b", 0, 5), ("c", 0, 5)],
        );
        let now = placement(
            &[("a", "n1"), ("b", "n1"), ("c", "n2")],
            &["n1", "n2", "n3"],
        );
        let model = Model::new(&cib, &now, None).expect("modelled");
        let after = model.after_failing(&["n1"]).expect("answered");
        // CIB order: a first, where nothing is assigned yet (n2 by name); then b, to the node
        // with fewer resources (n3); c keeps its node (stickiness)
        assert_eq!(where_runs(&after, "a"), ["n2"]);
        assert_eq!(where_runs(&after, "b"), ["n3"]);
        assert_eq!(where_runs(&after, "c"), ["n2"]);
    }

    #[test]
    fn what_the_model_does_not_place_may_not_move() {
        let text = r#"<cib have-quorum="1"><configuration><crm_config><cluster_property_set id="o"><nvpair id="o2" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
            <nodes><node id="1" uname="n1"/><node id="2" uname="n2"/></nodes>
            <resources><primitive id="a" class="ocf" provider="pacemaker" type="Dummy"/><primitive id="b" class="ocf" provider="pacemaker" type="Dummy"/></resources>
            <constraints><rsc_colocation id="together" rsc="a" with-rsc="b" score="INFINITY"/></constraints></configuration><status/></cib>"#;
        let cib = Cib::parse(text).expect("parses");
        let now = placement(&[("a", "n1"), ("b", "n1")], &["n1", "n2"]);
        let model = Model::new(&cib, &now, None).expect("modelled");
        let why = model.after_failing(&["n1"]).expect_err("cannot answer");
        assert!(why.contains("colocation together"), "{why}");
        let after = model.after_failing(&["n2"]).expect("nothing moves");
        assert_eq!(where_runs(&after, "a"), ["n1"]);
    }

    #[test]
    fn glib_sort_splits_and_merges_as_glib_does() {
        // rock-paper-scissors: 0 beats 1, 1 beats 2, 2 beats 0
        let beats = |a: &usize, b: &usize| {
            if a == b {
                Ordering::Equal
            } else if (*a + 1) % 3 == *b {
                Ordering::Less
            } else {
                Ordering::Greater
            }
        };
        assert_eq!(glib_sort(&[0, 1, 2], &beats), [0, 1, 2]);
        assert_eq!(glib_sort(&[1, 2, 0], &beats), [1, 2, 0]);
        assert_eq!(glib_sort(&[2, 1, 0], &beats), [2, 0, 1]);
        let by_value = |a: &usize, b: &usize| a.cmp(b);
        assert_eq!(
            glib_sort(&[5, 3, 9, 1, 7, 2], &by_value),
            [1, 2, 3, 5, 7, 9]
        );
        assert_eq!(first_intransitive(&[0, 1, 2], &beats), Some((0, 2)));
        assert_eq!(first_intransitive(&[1, 2, 3], &by_value), None);
    }

    #[test]
    fn free_capacity_counts_attributes_not_amounts() {
        let a = amounts(&[("memory", 4), ("cpu", 4)]);
        let b = amounts(&[("memory", 5)]);
        assert_eq!(
            compare_free(&a, &b),
            Ordering::Equal,
            "memory to b, cpu to a"
        );
        let c = amounts(&[("memory", 5), ("cpu", 3), ("disk", 2)]);
        let d = amounts(&[("memory", 4), ("cpu", 4), ("disk", 1)]);
        assert_eq!(compare_free(&c, &d), Ordering::Greater);
    }
}
