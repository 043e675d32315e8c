//! Which nova-compute service a cluster's name for a host means. Nova knows hosts by the name
//! each nova-compute registered (short, or fully qualified); a cluster often names nodes the
//! other way. As fence_compute does with `domain`, the domain is added or stripped: `compute1`
//! with domain `example.com` matches `compute1` and `compute1.example.com`, and so does
//! `compute1.example.com`. Without a domain, a short name matches the one host whose short
//! name it is. Shared by fence_paddock_compute (its plug) and procwatch (this node's name).

use crate::ComputeService;

fn short(name: &str) -> &str {
    name.split('.').next().unwrap_or(name)
}

/// The names a plug may have in Nova, best first.
fn candidates(plug: &str, domain: Option<&str>) -> Vec<String> {
    let plug = plug.trim();
    let mut names = vec![plug.to_string()];
    if let Some(domain) = domain
        .map(|d| d.trim().trim_matches('.'))
        .filter(|d| !d.is_empty())
    {
        let suffix = format!(".{domain}");
        match plug.strip_suffix(&suffix) {
            Some(stripped) => names.push(stripped.to_string()),
            None => names.push(format!("{}{suffix}", short(plug))),
        }
    }
    names
}

/// The service of `plug`, or why there is none (a one-line message naming the known hosts).
pub fn find_compute_service<'s>(
    services: &'s [ComputeService],
    plug: &str,
    domain: Option<&str>,
) -> Result<&'s ComputeService, String> {
    for name in candidates(plug, domain) {
        if let Some(service) = services.iter().find(|s| s.host.eq_ignore_ascii_case(&name)) {
            return Ok(service);
        }
    }
    let plug_short = short(plug.trim());
    let same_short: Vec<&ComputeService> = services
        .iter()
        .filter(|s| short(&s.host).eq_ignore_ascii_case(plug_short))
        .collect();
    match same_short.as_slice() {
        [one] if domain.is_none_or(|d| d.trim().is_empty()) => Ok(one),
        [] | [_] => {
            let mut known: Vec<&str> = services.iter().map(|s| s.host.as_str()).collect();
            known.sort_unstable();
            let shown = if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            };
            Err(format!(
                "Nova has no nova-compute service on host '{}'{} (its compute hosts: {shown})",
                plug.trim(),
                domain
                    .filter(|d| !d.trim().is_empty())
                    .map(|d| format!(" with domain '{d}'"))
                    .unwrap_or_default()
            ))
        }
        many => {
            Err(format!(
            "plug '{}' matches several nova-compute hosts ({}): set domain or give the full name",
            plug.trim(),
            many.iter().map(|s| s.host.as_str()).collect::<Vec<_>>().join(", ")
        ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ServiceState, ServiceStatus};

    fn service(host: &str) -> ComputeService {
        ComputeService {
            id: format!("id-{host}"),
            host: host.to_string(),
            zone: "nova".into(),
            status: ServiceStatus::Enabled,
            state: ServiceState::Up,
            forced_down: false,
            disabled_reason: None,
            updated_at: None,
        }
    }

    #[test]
    fn domain_is_added_or_stripped() {
        let fqdn = [
            service("compute1.example.com"),
            service("compute2.example.com"),
        ];
        let short_names = [service("compute1"), service("compute2")];
        for plug in ["compute1", "compute1.example.com", "COMPUTE1"] {
            assert_eq!(
                find_compute_service(&fqdn, plug, Some("example.com")).map(|s| s.host.as_str()),
                Ok("compute1.example.com"),
                "{plug}"
            );
            assert_eq!(
                find_compute_service(&short_names, plug, Some("example.com"))
                    .map(|s| s.host.as_str()),
                Ok("compute1"),
                "{plug}"
            );
        }
        // without a domain: exact, else the one host of that short name
        assert_eq!(
            find_compute_service(&fqdn, "compute2", None).map(|s| s.host.as_str()),
            Ok("compute2.example.com")
        );
        assert_eq!(
            find_compute_service(&short_names, "compute2.other.org", None).map(|s| s.host.as_str()),
            Ok("compute2")
        );
    }

    #[test]
    fn unknown_and_ambiguous_hosts_are_errors_naming_the_hosts() {
        let services = [service("compute1"), service("compute2")];
        let err = find_compute_service(&services, "compute9", None).unwrap_err();
        assert!(
            err.contains("'compute9'") && err.contains("compute1, compute2"),
            "{err}"
        );
        let err = find_compute_service(&services, "compute9", Some("example.com")).unwrap_err();
        assert!(err.contains("with domain 'example.com'"), "{err}");
        // a different domain given: the short name alone does not match
        assert!(find_compute_service(
            &[service("compute1.a.org")],
            "compute1.b.org",
            Some("b.org")
        )
        .is_err());
        let twins = [service("compute1.a.org"), service("compute1.b.org")];
        let err = find_compute_service(&twins, "compute1", None).unwrap_err();
        assert!(err.contains("several"), "{err}");
        assert!(find_compute_service(&[], "compute1", None)
            .unwrap_err()
            .contains("none"));
    }
}
