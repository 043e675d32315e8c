//! Redfish power states and reset types: what a PowerState means for fencing, and which
//! ResetType carries out an action on this system.

use crate::error::Error;
use serde_json::Value;
use stonith::{PowerAction, PowerState};

/// The state a fence agent may report for a Redfish `PowerState`.
///
/// PoweringOff is not off: the system may still run (and write to shared storage) until the
/// BMC says Off. The framework waits for a transition to settle before it acts, and counts
/// only Off as off. Paused has power applied: On.
pub fn fence_state(power_state: Option<&str>) -> Result<PowerState, Error> {
    match power_state {
        Some("Off") => Ok(PowerState::Off),
        Some("On" | "Paused") => Ok(PowerState::On),
        Some("PoweringOff") => Ok(PowerState::PoweringOff),
        Some("PoweringOn") => Ok(PowerState::PoweringOn),
        Some(other) => Err(Error::Device(format!(
            "the BMC reports an unknown PowerState '{}'",
            crate::error::one_line(other, 40)
        ))),
        None => Err(Error::Device(
            "the BMC reports no PowerState for this system".into(),
        )),
    }
}

/// ResetTypes that carry out `action`, best first.
pub fn preferred_reset_types(action: PowerAction) -> &'static [&'static str] {
    match action {
        PowerAction::Off => &["ForceOff"],
        PowerAction::On => &["On", "ForceOn"],
        PowerAction::Cycle => &["ForceRestart", "PowerCycle"],
        PowerAction::Soft => &["GracefulShutdown"],
        PowerAction::Diag => &["Nmi"],
    }
}

/// The ResetType to send. `allowed` is the system's list, None when it publishes none (then
/// every standard value is allowed).
pub fn choose_reset_type(
    action: PowerAction,
    allowed: Option<&[String]>,
) -> Result<&'static str, Error> {
    let preferred = preferred_reset_types(action);
    let Some(allowed) = allowed else {
        return Ok(preferred[0]);
    };
    preferred
        .iter()
        .find(|p| allowed.iter().any(|a| a == *p))
        .copied()
        .ok_or_else(|| {
            Error::Unsupported(format!(
                "the BMC offers no {} for this system (allowed ResetType: {})",
                preferred.join(" or "),
                if allowed.is_empty() {
                    "none".to_string()
                } else {
                    allowed.join(", ")
                }
            ))
        })
}

/// AllowableValues of the ResetType parameter in an ActionInfo resource.
pub fn action_info_reset_types(action_info: &Value) -> Option<Vec<String>> {
    action_info
        .get("Parameters")?
        .as_array()?
        .iter()
        .find(|p| p.get("Name").and_then(Value::as_str) == Some("ResetType"))?
        .get("AllowableValues")?
        .as_array()
        .map(|values| {
            values
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn powering_off_is_not_off() {
        assert_eq!(fence_state(Some("Off")), Ok(PowerState::Off));
        for on in ["On", "Paused"] {
            assert_eq!(fence_state(Some(on)), Ok(PowerState::On), "{on}");
        }
        assert_eq!(
            fence_state(Some("PoweringOff")),
            Ok(PowerState::PoweringOff)
        );
        assert_eq!(fence_state(Some("PoweringOn")), Ok(PowerState::PoweringOn));
        assert!(fence_state(Some("Sleeping")).is_err());
        assert!(fence_state(None).is_err());
    }

    #[test]
    fn reset_type_follows_allowable_values() {
        let all = strings(&[
            "On",
            "ForceOff",
            "GracefulShutdown",
            "ForceRestart",
            "Nmi",
            "ForceOn",
        ]);
        assert_eq!(
            choose_reset_type(PowerAction::Off, Some(&all)),
            Ok("ForceOff")
        );
        assert_eq!(choose_reset_type(PowerAction::On, Some(&all)), Ok("On"));
        assert_eq!(
            choose_reset_type(PowerAction::Cycle, Some(&all)),
            Ok("ForceRestart")
        );
        assert_eq!(
            choose_reset_type(PowerAction::Soft, Some(&all)),
            Ok("GracefulShutdown")
        );
        assert_eq!(choose_reset_type(PowerAction::Diag, Some(&all)), Ok("Nmi"));
        let hpe_like = strings(&["ForceOn", "ForceOff", "PowerCycle", "PushPowerButton"]);
        assert_eq!(
            choose_reset_type(PowerAction::On, Some(&hpe_like)),
            Ok("ForceOn")
        );
        assert_eq!(
            choose_reset_type(PowerAction::Cycle, Some(&hpe_like)),
            Ok("PowerCycle")
        );
        let refused = choose_reset_type(PowerAction::Diag, Some(&hpe_like))
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains("no Nmi") && refused.contains("PushPowerButton"),
            "{refused}"
        );
        assert_eq!(
            choose_reset_type(PowerAction::Cycle, None),
            Ok("ForceRestart")
        );
    }

    #[test]
    fn reset_types_from_action_info() {
        let info = json!({"Parameters": [
            {"Name": "Other", "AllowableValues": ["x"]},
            {"Name": "ResetType", "Required": true, "AllowableValues": ["On", "ForceOff"]}]});
        assert_eq!(
            action_info_reset_types(&info),
            Some(strings(&["On", "ForceOff"]))
        );
        assert_eq!(action_info_reset_types(&json!({"Parameters": []})), None);
    }
}
