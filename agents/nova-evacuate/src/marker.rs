//! How a host is marked "evacuated" in Nova itself, so that no cluster-side record is needed:
//! its nova-compute service is disabled with a reason that starts with `paddock-evacuate:`.
//! A forced-down service without that mark is a host still to evacuate; a marked one that is
//! no longer forced down (the fence agent's `on` unforced it) gets its previous state back.
//! A service that was disabled before keeps its old reason inside the mark, to be restored.

pub const PREFIX: &str = "paddock-evacuate:";
/// Nova's limit on disabled_reason.
pub const MAX_REASON: usize = 255;
const WAS: &str = " | was disabled: ";
/// How much of a previous reason is kept (the rest of the 255 bytes say what we did).
const MAX_OLD: usize = 120;
/// Restores a service that was disabled without a reason (Nova wants one to keep it disabled).
pub const NO_REASON: &str = "disabled before paddock-evacuate, no reason given";

/// Whether a service's disabled reason is our mark.
pub fn is_mark(reason: Option<&str>) -> bool {
    reason.is_some_and(|r| r.starts_with(PREFIX))
}

/// The service's state before we marked it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Before {
    Enabled,
    Disabled(Option<String>),
}

/// The mark: what was done, when, and the state before.
pub fn mark(summary: &str, before: &Before) -> String {
    let suffix = match before {
        Before::Enabled => String::new(),
        Before::Disabled(old) => {
            let old = old.as_deref().unwrap_or("").trim();
            let old = if old.is_empty() { NO_REASON } else { old };
            format!("{WAS}{}", &old[..floor_boundary(old, MAX_OLD)])
        }
    };
    let mut text = format!("{PREFIX} {summary}");
    text.truncate(floor_boundary(&text, MAX_REASON - suffix.len()));
    text + &suffix
}

/// What to set once the host is no longer forced down: None = enable, Some(reason) = keep it
/// disabled with the reason it had before.
pub fn restore(mark: &str) -> Option<String> {
    mark.split_once(WAS).map(|(_, old)| old.to_string())
}

fn floor_boundary(text: &str, at: usize) -> usize {
    let mut i = at.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mark_of_an_enabled_service_restores_to_enabled() {
        let m = mark(
            "3 evacuated, 1 left by policy, 0 failed at 2026-12-01 10:42:03Z",
            &Before::Enabled,
        );
        assert!(is_mark(Some(&m)));
        assert!(m.starts_with("paddock-evacuate: 3 evacuated"), "{m}");
        assert_eq!(restore(&m), None);
        assert!(
            !is_mark(None)
                && !is_mark(Some("maintenance"))
                && !is_mark(Some("paddock-procwatch: x"))
        );
    }

    #[test]
    fn a_previous_reason_is_kept_and_restored() {
        let m = mark(
            "done",
            &Before::Disabled(Some("paddock-procwatch: cannot start".into())),
        );
        assert_eq!(
            restore(&m).as_deref(),
            Some("paddock-procwatch: cannot start")
        );
        let m = mark("done", &Before::Disabled(None));
        assert_eq!(restore(&m).as_deref(), Some(NO_REASON));
        assert!(
            !is_mark(restore(&m).as_deref()),
            "the restored reason must not look like our mark"
        );
    }

    #[test]
    fn the_mark_fits_nova_s_limit_even_with_long_multibyte_reasons() {
        let old = "é".repeat(300);
        let m = mark(&"x".repeat(300), &Before::Disabled(Some(old)));
        assert!(m.len() <= MAX_REASON, "{}", m.len());
        let m = mark("done", &Before::Disabled(Some("ü".repeat(300))));
        assert!(m.len() <= MAX_REASON && restore(&m).unwrap().starts_with('ü'));
    }
}
