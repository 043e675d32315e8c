//! The ComputerSystems a BMC manages, and choosing the one to fence by `plug`
//! (Id, Name, UUID or SerialNumber), refusing to guess.

use crate::error::{one_line, Error};
use serde_json::Value;

/// What we need of one ComputerSystem resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct System {
    /// Its resource URI (`@odata.id`).
    pub uri: String,
    pub id: String,
    pub name: String,
    pub uuid: String,
    pub serial: String,
    /// Raw `PowerState` as read, if any.
    pub power_state: Option<String>,
    /// Where to POST ComputerSystem.Reset.
    pub reset_target: Option<String>,
    /// `ResetType@Redfish.AllowableValues`, if listed inline.
    pub reset_types: Option<Vec<String>>,
    /// `@Redfish.ActionInfo` of the Reset action, if any.
    pub reset_action_info: Option<String>,
}

impl System {
    pub fn from_json(uri: &str, json: &Value) -> System {
        let text = |key: &str| {
            json.get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let reset = json.pointer("/Actions/#ComputerSystem.Reset");
        let reset_str = |key: &str| {
            reset
                .and_then(|r| r.get(key))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        System {
            uri: json
                .get("@odata.id")
                .and_then(Value::as_str)
                .unwrap_or(uri)
                .to_string(),
            id: text("Id"),
            name: text("Name"),
            uuid: text("UUID"),
            serial: text("SerialNumber"),
            power_state: json
                .get("PowerState")
                .and_then(Value::as_str)
                .map(str::to_string),
            reset_target: reset_str("target"),
            reset_types: reset
                .and_then(|r| r.get("ResetType@Redfish.AllowableValues"))
                .and_then(Value::as_array)
                .map(|values| {
                    values
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                }),
            reset_action_info: reset_str("@Redfish.ActionInfo"),
        }
    }

    /// `Id (Name)` for messages.
    pub fn label(&self) -> String {
        if self.name.is_empty() || self.name == self.id {
            self.id.clone()
        } else {
            format!("{} ({})", self.id, self.name)
        }
    }

    /// Whether `plug` names this system: its Id exactly, or its Name, UUID or SerialNumber
    /// (case ignored).
    pub fn matches(&self, plug: &str) -> bool {
        let same = |field: &str| !field.is_empty() && field.eq_ignore_ascii_case(plug);
        self.id == plug || same(&self.name) || same(&self.uuid) || same(&self.serial)
    }
}

/// The `Systems` collection linked from the service root.
pub fn collection_uri(root: &Value) -> Result<String, Error> {
    root.pointer("/Systems/@odata.id")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| Error::Device("the Redfish service root links no Systems collection".into()))
}

/// Member URIs of a collection.
pub fn members(collection: &Value) -> Vec<String> {
    collection
        .get("Members")
        .and_then(Value::as_array)
        .map(|members| {
            members
                .iter()
                .filter_map(|m| m.get("@odata.id").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The member whose URI ends in `/<plug>`: a match by Id without reading every system.
pub fn member_by_id<'a>(members: &'a [String], plug: &str) -> Option<&'a String> {
    let mut found = members
        .iter()
        .filter(|uri| uri.trim_end_matches('/').rsplit('/').next() == Some(plug));
    match (found.next(), found.next()) {
        (Some(uri), None) => Some(uri),
        _ => None,
    }
}

/// Choose the system to act on. One system: that one (a one-system BMC belongs to one node, and
/// Pacemaker passes the node name as plug). Several: exactly one must match `plug`, by Id first,
/// then by Name, UUID or SerialNumber.
pub fn select<'a>(systems: &'a [System], plug: Option<&str>) -> Result<&'a System, Error> {
    match (systems, plug.map(str::trim).filter(|p| !p.is_empty())) {
        ([], _) => Err(Error::Device("the BMC lists no ComputerSystem".into())),
        ([only], _) => Ok(only),
        (_, None) => Err(Error::Config(format!(
            "the BMC manages {} systems, set plug to one of: {}",
            systems.len(),
            candidates(systems)
        ))),
        (_, Some(plug)) => {
            if let Some(by_id) = systems.iter().find(|s| s.id == plug) {
                return Ok(by_id);
            }
            let found: Vec<&System> = systems.iter().filter(|s| s.matches(plug)).collect();
            match found.as_slice() {
                [one] => Ok(one),
                [] => Err(Error::Config(format!(
                    "plug '{}' matches no system (Id, Name, UUID or SerialNumber) of: {}",
                    one_line(plug, 80),
                    candidates(systems)
                ))),
                several => Err(Error::Config(format!(
                    "plug '{}' is ambiguous, it matches {}: use the Id or UUID",
                    one_line(plug, 80),
                    several
                        .iter()
                        .map(|s| format!("{} uuid {}", s.label(), s.uuid))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))),
            }
        }
    }
}

fn candidates(systems: &[System]) -> String {
    systems
        .iter()
        .map(System::label)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn system(id: &str, name: &str, uuid: &str, serial: &str) -> System {
        System::from_json(
            &format!("/redfish/v1/Systems/{id}"),
            &json!({"Id": id, "Name": name, "UUID": uuid, "SerialNumber": serial, "PowerState": "On"}),
        )
    }

    fn fleet() -> Vec<System> {
        vec![
            system("1", "node1", "aaaa-1", "SN1"),
            system("2", "node2", "aaaa-2", "SN2"),
            system("3", "twin", "aaaa-3", ""),
            system("4", "twin", "aaaa-4", ""),
        ]
    }

    #[test]
    fn reads_a_computer_system() {
        let json = json!({
            "@odata.id": "/redfish/v1/Systems/1", "Id": "1", "Name": "n", "UUID": "u", "PowerState": "PoweringOff",
            "Actions": {"#ComputerSystem.Reset": {"target": "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset",
                "ResetType@Redfish.AllowableValues": ["On", "ForceOff"], "@Redfish.ActionInfo": "/ai"}}});
        let s = System::from_json("/other", &json);
        assert_eq!(s.uri, "/redfish/v1/Systems/1");
        assert_eq!(s.power_state.as_deref(), Some("PoweringOff"));
        assert_eq!(
            s.reset_target.as_deref(),
            Some("/redfish/v1/Systems/1/Actions/ComputerSystem.Reset")
        );
        assert_eq!(
            s.reset_types,
            Some(vec!["On".to_string(), "ForceOff".to_string()])
        );
        assert_eq!(s.reset_action_info.as_deref(), Some("/ai"));
        assert_eq!(System::from_json("/x", &json!({})).reset_types, None);
    }

    #[test]
    fn plug_matches_id_name_uuid_or_serial() {
        let systems = fleet();
        for plug in ["2", "node2", "NODE2", "aaaa-2", "AAAA-2", "SN2", " 2 "] {
            assert_eq!(
                select(&systems, Some(plug)).map(|s| s.id.as_str()),
                Ok("2"),
                "plug {plug}"
            );
        }
    }

    #[test]
    fn ambiguous_or_missing_plug_is_refused_with_candidates() {
        let systems = fleet();
        let ambiguous = select(&systems, Some("twin")).unwrap_err().to_string();
        assert!(
            ambiguous.contains("ambiguous")
                && ambiguous.contains("aaaa-3")
                && ambiguous.contains("aaaa-4"),
            "{ambiguous}"
        );
        let missing = select(&systems, None).unwrap_err().to_string();
        assert!(
            missing.contains("4 systems") && missing.contains("1 (node1)"),
            "{missing}"
        );
        let unknown = select(&systems, Some("node9")).unwrap_err().to_string();
        assert!(
            unknown.contains("matches no system") && unknown.contains("2 (node2)"),
            "{unknown}"
        );
        assert!(select(&[], None).is_err());
    }

    #[test]
    fn one_system_is_used_whatever_the_plug() {
        let one = vec![system("System.Embedded.1", "System", "u", "")];
        assert_eq!(
            select(&one, Some("node-a")).map(|s| s.id.as_str()),
            Ok("System.Embedded.1")
        );
        assert_eq!(
            select(&one, None).map(|s| s.id.as_str()),
            Ok("System.Embedded.1")
        );
    }

    #[test]
    fn collection_members_and_id_shortcut() {
        let root = json!({"Systems": {"@odata.id": "/redfish/v1/Systems"}});
        assert_eq!(collection_uri(&root).as_deref(), Ok("/redfish/v1/Systems"));
        assert!(collection_uri(&json!({})).is_err());
        let collection = json!({"Members": [{"@odata.id": "/redfish/v1/Systems/1"}, {"@odata.id": "/redfish/v1/Systems/12/"}]});
        let uris = members(&collection);
        assert_eq!(uris.len(), 2);
        assert_eq!(
            member_by_id(&uris, "12").map(String::as_str),
            Some("/redfish/v1/Systems/12/")
        );
        assert_eq!(member_by_id(&uris, "2"), None);
    }
}
