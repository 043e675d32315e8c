//! Keystone's service catalog: which URL serves a service type, by interface and region.

use crate::error::Error;
use serde_json::Value;
use std::fmt;
use std::str::FromStr;

/// Which of a service's endpoints to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Interface {
    #[default]
    Public,
    Internal,
    Admin,
}

impl Interface {
    pub fn as_str(self) -> &'static str {
        match self {
            Interface::Public => "public",
            Interface::Internal => "internal",
            Interface::Admin => "admin",
        }
    }
}

impl fmt::Display for Interface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Interface {
    type Err = String;

    /// `public`, `internal`, `admin`, and the Keystone v2 / novaclient spellings
    /// `publicURL`, `internalURL`, `adminURL` (fence_compute's endpoint_type).
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let lower = value.trim().to_ascii_lowercase();
        match lower.strip_suffix("url").unwrap_or(&lower) {
            "public" => Ok(Interface::Public),
            "internal" => Ok(Interface::Internal),
            "admin" => Ok(Interface::Admin),
            _ => Err(format!(
                "'{}' is not an endpoint interface (public, internal or admin)",
                value.trim()
            )),
        }
    }
}

/// One endpoint of the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Endpoint {
    service_type: String,
    interface: String,
    region: Option<String>,
    url: String,
}

/// The catalog of a token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Catalog {
    endpoints: Vec<Endpoint>,
}

impl Catalog {
    /// From a Keystone v3 token body's `catalog` array.
    pub fn from_token(catalog: &Value) -> Catalog {
        let mut endpoints = Vec::new();
        for service in catalog.as_array().into_iter().flatten() {
            let Some(service_type) = service.get("type").and_then(Value::as_str) else {
                continue;
            };
            for endpoint in service
                .get("endpoints")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let text = |key: &str| endpoint.get(key).and_then(Value::as_str);
                let (Some(interface), Some(url)) = (text("interface"), text("url")) else {
                    continue;
                };
                endpoints.push(Endpoint {
                    service_type: service_type.to_string(),
                    interface: interface.to_string(),
                    region: text("region_id")
                        .or_else(|| text("region"))
                        .map(str::to_string),
                    url: url.trim_end_matches('/').to_string(),
                });
            }
        }
        Catalog { endpoints }
    }

    /// The URL of `service_type` for `interface` (in `region` when given).
    pub fn url(
        &self,
        service_type: &str,
        interface: Interface,
        region: Option<&str>,
    ) -> Result<String, Error> {
        let of_type: Vec<&Endpoint> = self
            .endpoints
            .iter()
            .filter(|e| e.service_type == service_type)
            .collect();
        if of_type.is_empty() {
            return Err(Error::Catalog(format!(
                "the Keystone catalog has no '{service_type}' service (is the user's project scoped, and the service registered?)"
            )));
        }
        let found = of_type.iter().find(|e| {
            e.interface == interface.as_str()
                && region.is_none_or(|r| e.region.as_deref() == Some(r))
        });
        match found {
            Some(endpoint) => Ok(endpoint.url.clone()),
            None => {
                let offered: Vec<String> = of_type
                    .iter()
                    .map(|e| {
                        format!(
                            "{} in {}",
                            e.interface,
                            e.region.as_deref().unwrap_or("no region")
                        )
                    })
                    .collect();
                Err(Error::Catalog(format!(
                    "the Keystone catalog has no {interface} '{service_type}' endpoint{}; it has: {}",
                    region.map(|r| format!(" in region {r}")).unwrap_or_default(),
                    offered.join(", ")
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn catalog() -> Catalog {
        Catalog::from_token(&json!([
            {"type": "compute", "name": "nova", "endpoints": [
                {"interface": "public", "region_id": "RegionOne", "url": "https://nova.one/v2.1/"},
                {"interface": "internal", "region_id": "RegionOne", "url": "http://10.0.0.1:8774/v2.1"},
                {"interface": "public", "region_id": "RegionTwo", "url": "https://nova.two/v2.1"}
            ]},
            {"type": "image", "endpoints": [
                {"interface": "public", "region": "RegionOne", "url": "https://glance.one"}
            ]},
            {"type": "broken"}
        ]))
    }

    #[test]
    fn endpoints_by_interface_and_region() {
        let c = catalog();
        assert_eq!(
            c.url("compute", Interface::Public, Some("RegionOne"))
                .as_deref(),
            Ok("https://nova.one/v2.1")
        );
        assert_eq!(
            c.url("compute", Interface::Public, Some("RegionTwo"))
                .as_deref(),
            Ok("https://nova.two/v2.1")
        );
        assert_eq!(
            c.url("compute", Interface::Internal, None).as_deref(),
            Ok("http://10.0.0.1:8774/v2.1")
        );
        assert_eq!(
            c.url("image", Interface::Public, Some("RegionOne"))
                .as_deref(),
            Ok("https://glance.one")
        );
    }

    #[test]
    fn missing_endpoints_say_what_there_is() {
        let c = catalog();
        let err = c
            .url("compute", Interface::Admin, None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no admin 'compute' endpoint") && err.contains("internal in RegionOne"),
            "{err}"
        );
        let err = c
            .url("compute", Interface::Internal, Some("RegionTwo"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("in region RegionTwo"), "{err}");
        assert!(matches!(
            c.url("volume", Interface::Public, None),
            Err(Error::Catalog(_))
        ));
    }

    #[test]
    fn interface_spellings() {
        assert_eq!("internalURL".parse(), Ok(Interface::Internal));
        assert_eq!(" Public ".parse(), Ok(Interface::Public));
        assert_eq!("adminurl".parse(), Ok(Interface::Admin));
        assert!("private".parse::<Interface>().is_err());
    }
}
