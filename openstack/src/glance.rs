//! Glance: an image's properties (where an image may ask for HA).

use crate::error::Error;
use crate::http::{Method, Transport};
use crate::nova::path_segment;
use crate::Secret;
use paddock_base::Deadline;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;

#[derive(Clone)]
pub struct Glance {
    transport: Transport,
    endpoint: String,
    token: Secret,
}

impl fmt::Debug for Glance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Glance")
            .field("endpoint", &self.endpoint)
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

impl Glance {
    pub(crate) fn new(transport: Transport, endpoint: String, token: Secret) -> Glance {
        let endpoint = endpoint.trim_end_matches('/');
        // the catalog names the service's root, or (some deployments) its /v2
        let endpoint = endpoint.strip_suffix("/v2").unwrap_or(endpoint).to_string();
        Glance {
            transport,
            endpoint,
            token,
        }
    }

    /// The image's properties: in Glance v2 every top-level scalar of the image, the
    /// custom ones (`paddock:ha`, `evacuable`) among them. Values are strings as Glance keeps
    /// them; booleans and numbers are written as JSON writes them.
    pub fn image_properties(
        &self,
        image_id: &str,
        deadline: &Deadline,
    ) -> Result<BTreeMap<String, String>, Error> {
        let url = format!("{}/v2/images/{}", self.endpoint, path_segment(image_id));
        let reply = self.transport.request(
            Method::Get,
            &url,
            &[("X-Auth-Token", self.token.expose())],
            None,
            deadline,
        )?;
        if !reply.is_success() {
            return Err(reply.error(&format!("Glance: reading image {image_id}")));
        }
        let object = reply.body.as_object().ok_or_else(|| {
            Error::Parse(format!("Glance: image {image_id} is not a JSON object"))
        })?;
        Ok(object
            .iter()
            .filter_map(|(k, v)| {
                let v = match v {
                    Value::String(s) => s.clone(),
                    Value::Bool(b) => b.to_string(),
                    Value::Number(n) => n.to_string(),
                    _ => return None,
                };
                Some((k.clone(), v))
            })
            .collect())
    }
}
