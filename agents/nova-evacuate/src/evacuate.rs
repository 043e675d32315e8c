//! One look at Nova, the evacuator's whole work list: every nova-compute service forced down
//! (a host the fencing confirmed dead) and not yet marked by us is a host to evacuate. Its
//! instances that are still on it, not already being rebuilt, and whose policy asks for HA are
//! evacuated (at most `parallel` requests at once); then the host is marked done in Nova (see
//! `marker`). A marked host that is no longer forced down gets its previous state back.
//! What is kept in memory between looks only makes the reports fuller: a restarted daemon
//! finds the same work in Nova.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use openstack::{ComputeService, Deadline, Error, Glance, Nova, Server, ServiceStatus};
use paddock_base::journal;
use paddock_base::logging::UtcTime;

use crate::marker::{self, Before};
use crate::policy::{self, Decision, Image, Source};
use crate::pool;

/// Every request to the cloud is bounded by this.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// An instance whose evacuation request failed this often without an answer from Nova is
/// given up (reported as failed) so that the host can be marked done.
const MAX_ATTEMPTS: u32 = 5;
/// The agent's name in the journal.
pub const AGENT: &str = "nova-evacuate";

/// Task states of an instance that is being rebuilt (an evacuation under way).
pub fn being_rebuilt(task_state: Option<&str>) -> bool {
    task_state.is_some_and(|t| t.starts_with("rebuild"))
}

/// Whether Nova's error means "it will not do that" (no point asking again) rather than
/// "no answer" (ask again at the next look).
pub fn is_refusal(error: &Error) -> bool {
    matches!(error, Error::Refused(_) | Error::NotFound(_))
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub parallel: usize,
    pub default_ha: bool,
    /// The resource's name, for the journal.
    pub resource: String,
    /// The hosts to look after (empty: all).
    pub hosts: Vec<String>,
}

impl Settings {
    fn looks_after(&self, host: &str) -> bool {
        self.hosts.is_empty() || self.hosts.iter().any(|h| h == host)
    }
}

/// What happened to a host's instances since it was first seen forced down.
#[derive(Debug, Default)]
struct Tally {
    seen_at: Option<Instant>,
    /// When the last evacuation request was accepted.
    last_accepted: Option<Instant>,
    evacuated: Vec<String>,
    failed: Vec<String>,
    /// Given up: not asked again.
    given_up: BTreeSet<String>,
    attempts: HashMap<String, u32>,
}

/// What one look found and did.
#[derive(Debug, Default)]
pub struct Look {
    /// Forced-down hosts and where each stands: `compute1=evacuating compute2=done`.
    pub hosts: String,
    /// What was done, in words (empty: nothing).
    pub did: Vec<String>,
    /// A request was refused for the token: log in again before the next look.
    pub token_refused: bool,
}

struct Job<'a> {
    host: &'a str,
    server: Server,
    decision: Decision,
}

pub struct Evacuator {
    settings: Settings,
    tallies: BTreeMap<String, Tally>,
}

impl Evacuator {
    pub fn new(settings: Settings) -> Evacuator {
        Evacuator {
            settings,
            tallies: BTreeMap::new(),
        }
    }

    pub fn look(&mut self, nova: &Nova, glance: Option<&Glance>) -> Result<Look, Error> {
        let mut look = Look::default();
        let mut services = nova.compute_services(&deadline())?;
        services.retain(|s| self.settings.looks_after(&s.host));
        for service in services
            .iter()
            // not before nova-compute reports again: enabling a service Nova takes for down
            // leaves its resource provider's COMPUTE_STATUS_DISABLED trait in place (Nova tells
            // only a running nova-compute), and Placement then offers the host to nothing until
            // nova-compute's next periodic update, a minute later
            .filter(|s| {
                !s.forced_down
                    && s.state == openstack::ServiceState::Up
                    && marker::is_mark(s.disabled_reason.as_deref())
            })
        {
            self.give_back(nova, service, &mut look);
        }
        let failed: Vec<&ComputeService> = services
            .iter()
            .filter(|s| s.forced_down && !marker::is_mark(s.disabled_reason.as_deref()))
            .collect();
        self.tallies
            .retain(|host, _| failed.iter().any(|s| &s.host == host));
        if !failed.is_empty() {
            self.evacuate(nova, glance, &failed, &mut look)?;
        }
        look.hosts = services
            .iter()
            .filter(|s| s.forced_down)
            .map(|s| {
                // a host without a tally after this look was marked, now or before
                let stands = if self.tallies.contains_key(&s.host) {
                    "evacuating"
                } else {
                    "done"
                };
                format!("{}={stands}", s.host)
            })
            .collect::<Vec<_>>()
            .join(" ");
        Ok(look)
    }

    fn evacuate(
        &mut self,
        nova: &Nova,
        glance: Option<&Glance>,
        failed: &[&ComputeService],
        look: &mut Look,
    ) -> Result<(), Error> {
        let began = Instant::now();
        let aggregates = nova.aggregates(&deadline())?;
        let mut images = Images {
            glance,
            known: HashMap::new(),
        };
        let mut jobs: Vec<Job> = Vec::new();
        let mut left: BTreeMap<&str, Vec<(Server, Decision)>> = BTreeMap::new();
        let mut rebuilding: BTreeMap<&str, usize> = BTreeMap::new();
        for service in failed {
            let host = service.host.as_str();
            let tally = self.tallies.entry(host.to_string()).or_default();
            if tally.seen_at.is_none() {
                tally.seen_at = Some(Instant::now());
                tracing::info!(
                    "{host}: nova-compute is forced down (fenced): evacuating its instances"
                );
            }
            let servers = nova.servers_on_host(host, &deadline())?;
            let host_aggregates: Vec<(String, BTreeMap<String, String>)> = aggregates
                .iter()
                .filter(|a| a.hosts.iter().any(|h| h == host))
                .map(|a| (a.name.clone(), a.metadata.clone()))
                .collect();
            for server in servers {
                if being_rebuilt(server.task_state.as_deref()) {
                    *rebuilding.entry(host).or_default() += 1;
                    continue;
                }
                if tally.given_up.contains(&server.id) {
                    continue;
                }
                let decision = decide(
                    &server,
                    &host_aggregates,
                    self.settings.default_ha,
                    &mut images,
                );
                if decision.ha {
                    jobs.push(Job {
                        host,
                        server,
                        decision,
                    });
                } else {
                    left.entry(host).or_default().push((server, decision));
                }
            }
        }
        let weighed = began.elapsed();
        let results = pool::run(&jobs, self.settings.parallel, |job| {
            nova.evacuate(&job.server.id, &deadline())
        });
        if !jobs.is_empty() {
            tracing::info!(
                "{} evacuation request(s) answered in {} ms, {} at once (servers listed and policies weighed in {} ms)",
                jobs.len(),
                (began.elapsed() - weighed).as_millis(),
                self.settings.parallel.min(jobs.len()),
                weighed.as_millis()
            );
        }
        let mut unfinished: BTreeSet<&str> = BTreeSet::new();
        for (job, result) in jobs.iter().zip(results) {
            let tally = self
                .tallies
                .get_mut(job.host)
                .expect("a tally per failed host");
            let name = label(&job.server);
            match result {
                Ok(()) => {
                    tracing::info!("{}: evacuating {name}: {}", job.host, job.decision);
                    tally.evacuated.push(name);
                    tally.last_accepted = Some(Instant::now());
                }
                Err(e) if is_refusal(&e) => {
                    tracing::warn!("{}: Nova refused to evacuate {name}: {e}", job.host);
                    tally.failed.push(format!("{name}: {e}"));
                    tally.given_up.insert(job.server.id.clone());
                }
                Err(e) => {
                    look.token_refused |= matches!(e, Error::Auth(_));
                    let attempts = tally.attempts.entry(job.server.id.clone()).or_default();
                    *attempts += 1;
                    if *attempts >= MAX_ATTEMPTS {
                        tracing::warn!(
                            "{}: evacuating {name} failed {attempts} times, giving up: {e}",
                            job.host
                        );
                        tally.failed.push(format!("{name}: {e}"));
                        tally.given_up.insert(job.server.id.clone());
                    } else {
                        tracing::warn!(
                            "{}: evacuating {name} failed (asked again at the next look): {e}",
                            job.host
                        );
                        unfinished.insert(job.host);
                    }
                }
            }
        }
        if !jobs.is_empty() {
            look.did
                .push(format!("{} evacuation request(s) sent", jobs.len()));
        }
        for service in failed {
            let host = service.host.as_str();
            if unfinished.contains(host) {
                continue;
            }
            let left_here = left.remove(host).unwrap_or_default();
            let rebuilding_here = rebuilding.get(host).copied().unwrap_or(0);
            if self.mark_done(nova, service, &left_here, rebuilding_here, look) {
                self.tallies.remove(host);
            }
        }
        Ok(())
    }

    /// Marks the host done in Nova and reports it (log and journal); false if Nova did not
    /// take the mark (tried again at the next look).
    fn mark_done(
        &mut self,
        nova: &Nova,
        service: &ComputeService,
        left: &[(Server, Decision)],
        rebuilding: usize,
        look: &mut Look,
    ) -> bool {
        let host = service.host.as_str();
        let tally = self.tallies.get(host).expect("a tally per failed host");
        let mut summary = format!("{} evacuated", tally.evacuated.len());
        if rebuilding > 0 {
            summary.push_str(&format!(", {rebuilding} already being rebuilt"));
        }
        summary.push_str(&format!(
            ", {} left by policy, {} failed, at {}",
            left.len(),
            tally.failed.len(),
            UtcTime::now().readable()
        ));
        let before = match service.status {
            ServiceStatus::Enabled => Before::Enabled,
            ServiceStatus::Disabled => Before::Disabled(service.disabled_reason.clone()),
        };
        let mark = marker::mark(&summary, &before);
        if let Err(e) = nova.set_disabled(&service.id, Some(&mark), &deadline()) {
            tracing::warn!(
                "{host}: cannot mark the host done in Nova (tried again at the next look): {e}"
            );
            return false;
        }
        let took = |at: Option<Instant>| match (tally.seen_at, at) {
            (Some(seen), Some(at)) => {
                format!("{} ms", at.saturating_duration_since(seen).as_millis())
            }
            _ => "-".to_string(),
        };
        tracing::info!(
            "{host}: done: {summary}; last request accepted {} after the host was seen forced down, marked after {}",
            took(tally.last_accepted),
            took(Some(Instant::now()))
        );
        let rsc = self.settings.resource.as_str();
        if !tally.evacuated.is_empty() {
            journal::record_decision(
                AGENT,
                Some(host),
                rsc,
                "evacuate",
                &format!(
                    "{host}: evacuated {}: {}",
                    tally.evacuated.len(),
                    tally.evacuated.join(", ")
                ),
            );
        }
        if !left.is_empty() {
            let each: Vec<String> = left
                .iter()
                .map(|(s, d)| format!("{} ({d})", label(s)))
                .collect();
            for line in &each {
                tracing::info!("{host}: left {line}");
            }
            journal::record_decision(
                AGENT,
                Some(host),
                rsc,
                "left",
                &format!("{host}: left by policy {}: {}", left.len(), each.join("; ")),
            );
        }
        for failure in &tally.failed {
            tracing::warn!("{host}: not evacuated: {failure}");
        }
        if !tally.failed.is_empty() {
            journal::record_decision(
                AGENT,
                Some(host),
                rsc,
                "failed",
                &format!(
                    "{host}: not evacuated {}: {}",
                    tally.failed.len(),
                    tally.failed.join("; ")
                ),
            );
        }
        journal::record_decision(
            AGENT,
            Some(host),
            rsc,
            "host-done",
            &format!("{host}: {summary}"),
        );
        look.did.push(format!("{host}: {summary}"));
        true
    }

    /// A marked host that is no longer forced down: enabled again, or disabled as it was before.
    fn give_back(&mut self, nova: &Nova, service: &ComputeService, look: &mut Look) {
        let host = service.host.as_str();
        let restore = marker::restore(service.disabled_reason.as_deref().unwrap_or(""));
        if let Err(e) = nova.set_disabled(&service.id, restore.as_deref(), &deadline()) {
            tracing::warn!("{host}: no longer forced down, but Nova did not take the change (tried again at the next look): {e}");
            return;
        }
        let what = match &restore {
            None => format!("{host}: no longer forced down: nova-compute enabled again"),
            Some(reason) => {
                format!("{host}: no longer forced down: left disabled as before ({reason})")
            }
        };
        tracing::info!("{what}");
        journal::record_decision(
            AGENT,
            Some(host),
            &self.settings.resource,
            "host-back",
            &what,
        );
        look.did.push(what);
    }
}

fn deadline() -> Deadline {
    Deadline::after(REQUEST_TIMEOUT)
}

fn label(server: &Server) -> String {
    if server.name.is_empty() {
        server.id.clone()
    } else {
        format!("{} ({})", server.name, server.id)
    }
}

/// Image properties, asked of Glance once per image and look, and only for instances whose
/// metadata and flavor leave the question open.
struct Images<'g> {
    glance: Option<&'g Glance>,
    known: HashMap<String, Result<BTreeMap<String, String>, String>>,
}

impl Images<'_> {
    fn properties(&mut self, image_id: &str) -> &Result<BTreeMap<String, String>, String> {
        let glance = self.glance;
        self.known
            .entry(image_id.to_string())
            .or_insert_with(|| match glance {
                None => Err("no image service in the catalog".to_string()),
                Some(glance) => glance
                    .image_properties(image_id, &deadline())
                    .map_err(|e| e.to_string()),
            })
    }
}

fn decide(
    server: &Server,
    aggregates: &[(String, BTreeMap<String, String>)],
    default_ha: bool,
    images: &mut Images,
) -> Decision {
    let inputs = |image| policy::Inputs {
        instance: &server.metadata,
        flavor: &server.flavor_extra_specs,
        image,
        aggregates,
        default_ha,
    };
    let first = policy::decide(&inputs(Image::None));
    if matches!(first.source, Source::Instance | Source::Flavor) {
        return first;
    }
    match &server.image_id {
        None => first,
        Some(id) => match images.properties(id) {
            Ok(props) => policy::decide(&inputs(Image::Properties(props))),
            Err(why) => policy::decide(&inputs(Image::Unavailable(why.clone()))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_rebuild_task_states_count_as_under_way() {
        for t in [
            "rebuilding",
            "rebuild_block_device_mapping",
            "rebuild_spawning",
        ] {
            assert!(being_rebuilt(Some(t)), "{t}");
        }
        for t in [
            None,
            Some("migrating"),
            Some("spawning"),
            Some("powering-off"),
        ] {
            assert!(!being_rebuilt(t), "{t:?}");
        }
    }

    #[test]
    fn refusals_are_final_and_silence_is_asked_again() {
        assert!(is_refusal(&Error::Refused(
            "Cannot 'evacuate' instance while it is in task_state migrating".into()
        )));
        assert!(is_refusal(&Error::NotFound("no such server".into())));
        for e in [
            Error::Timeout("t".into()),
            Error::Connect("c".into()),
            Error::Http {
                status: 503,
                message: "m".into(),
            },
            Error::Auth("token".into()),
        ] {
            assert!(!is_refusal(&e), "{e:?}");
        }
    }
}
