//! The per-instance HA policy: whether an instance of a failed host is rebuilt elsewhere, and
//! which setting decided it. Pure: the caller gathers the settings, this module only weighs them.
//!
//! Keys: `paddock:ha` = true|false (Pacemaker's boolean spellings), and `evacuable` as
//! fence_evacuate knows it (present with an empty or true value: HA; a false value: not HA).
//! At one level `paddock:ha` wins over `evacuable`. Levels, first that says something wins:
//! instance metadata, flavor extra spec, image property, the host aggregates (an availability
//! zone is an aggregate too) of the failed host, then the agent's `default_ha`.

use std::collections::BTreeMap;
use std::fmt;

pub const HA_KEY: &str = "paddock:ha";
pub const COMPAT_KEY: &str = "evacuable";

/// Where a decision came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Instance,
    Flavor,
    Image,
    /// The aggregates (names) of the failed host that carry the key and agree.
    Aggregate(Vec<String>),
    Default,
}

/// What the image level knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Image<'a> {
    Properties(&'a BTreeMap<String, String>),
    /// Booted from a volume: no image.
    None,
    /// The image service could not say (the level is skipped, with the reason in the notes).
    Unavailable(String),
}

/// The settings that bear on one instance.
#[derive(Debug, Clone)]
pub struct Inputs<'a> {
    pub instance: &'a BTreeMap<String, String>,
    pub flavor: &'a BTreeMap<String, String>,
    pub image: Image<'a>,
    /// Aggregates the failed host belongs to: (name, metadata).
    pub aggregates: &'a [(String, BTreeMap<String, String>)],
    pub default_ha: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub ha: bool,
    pub source: Source,
    /// The key and value that decided (None for the default).
    pub setting: Option<(&'static str, String)>,
    /// Settings that were ignored and why (invalid values, an unreachable image service,
    /// aggregates that disagree).
    pub notes: Vec<String>,
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ha = if self.ha { "HA" } else { "not HA" };
        match (&self.source, &self.setting) {
            (Source::Default, _) | (_, None) => write!(f, "{ha} by default_ha")?,
            (Source::Instance, Some((k, v))) => write!(f, "{ha} by instance metadata {k}={v}")?,
            (Source::Flavor, Some((k, v))) => write!(f, "{ha} by flavor extra spec {k}={v}")?,
            (Source::Image, Some((k, v))) => write!(f, "{ha} by image property {k}={v}")?,
            (Source::Aggregate(names), Some((k, v))) => {
                write!(f, "{ha} by aggregate {} {k}={v}", names.join(","))?
            }
        }
        if !self.notes.is_empty() {
            write!(f, " ({})", self.notes.join("; "))?;
        }
        Ok(())
    }
}

/// One level's say: Ok(None) when it has neither key, Err with a note for each invalid value
/// (the level then says nothing unless a valid key remains).
fn level(
    settings: &BTreeMap<String, String>,
    what: &str,
    notes: &mut Vec<String>,
) -> Option<(bool, &'static str, String)> {
    if let Some(value) = settings.get(HA_KEY) {
        match ocf::params::parse_bool(value) {
            Some(ha) => return Some((ha, HA_KEY, value.trim().to_string())),
            None => notes.push(format!(
                "{what} {HA_KEY}={value:?} is not a boolean, ignored"
            )),
        }
    }
    if let Some(value) = settings.get(COMPAT_KEY) {
        let ha = if value.trim().is_empty() {
            Some(true)
        } else {
            ocf::params::parse_bool(value)
        };
        match ha {
            Some(ha) => return Some((ha, COMPAT_KEY, value.trim().to_string())),
            None => notes.push(format!(
                "{what} {COMPAT_KEY}={value:?} is not a boolean, ignored"
            )),
        }
    }
    None
}

/// Weighs the levels in order of precedence.
pub fn decide(inputs: &Inputs) -> Decision {
    let mut notes = Vec::new();
    let decided = |ha, source, key: &'static str, value: String, notes: Vec<String>| Decision {
        ha,
        source,
        setting: Some((key, value)),
        notes,
    };
    if let Some((ha, k, v)) = level(inputs.instance, "instance metadata", &mut notes) {
        return decided(ha, Source::Instance, k, v, notes);
    }
    if let Some((ha, k, v)) = level(inputs.flavor, "flavor extra spec", &mut notes) {
        return decided(ha, Source::Flavor, k, v, notes);
    }
    match &inputs.image {
        Image::Properties(props) => {
            if let Some((ha, k, v)) = level(props, "image property", &mut notes) {
                return decided(ha, Source::Image, k, v, notes);
            }
        }
        Image::None => {}
        Image::Unavailable(why) => notes.push(format!("image properties unknown: {why}")),
    }
    let mut said: Vec<(&str, bool, &'static str, String)> = Vec::new();
    for (name, metadata) in inputs.aggregates {
        if let Some((ha, k, v)) = level(metadata, &format!("aggregate {name}"), &mut notes) {
            said.push((name, ha, k, v));
        }
    }
    if let Some((_, first, key, value)) = said.first().cloned() {
        if said.iter().all(|(_, ha, _, _)| *ha == first) {
            let names = said.iter().map(|(n, ..)| n.to_string()).collect();
            return decided(first, Source::Aggregate(names), key, value, notes);
        }
        let views: Vec<String> = said
            .iter()
            .map(|(n, _, k, v)| format!("{n} {k}={v}"))
            .collect();
        notes.push(format!("aggregates disagree ({})", views.join(", ")));
    }
    Decision {
        ha: inputs.default_ha,
        source: Source::Default,
        setting: None,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    struct Case {
        instance: BTreeMap<String, String>,
        flavor: BTreeMap<String, String>,
        image: Option<BTreeMap<String, String>>,
        aggregates: Vec<(String, BTreeMap<String, String>)>,
        default_ha: bool,
    }

    impl Case {
        fn new() -> Case {
            Case {
                instance: BTreeMap::new(),
                flavor: BTreeMap::new(),
                image: None,
                aggregates: Vec::new(),
                default_ha: true,
            }
        }
        fn decide(&self) -> Decision {
            decide(&Inputs {
                instance: &self.instance,
                flavor: &self.flavor,
                image: match &self.image {
                    Some(p) => Image::Properties(p),
                    None => Image::None,
                },
                aggregates: &self.aggregates,
                default_ha: self.default_ha,
            })
        }
    }

    #[test]
    fn nothing_set_means_the_default_either_way() {
        let mut c = Case::new();
        assert_eq!((c.decide().ha, c.decide().source), (true, Source::Default));
        c.default_ha = false;
        assert_eq!((c.decide().ha, c.decide().source), (false, Source::Default));
        assert_eq!(c.decide().to_string(), "not HA by default_ha");
    }

    #[test]
    fn each_level_overrides_the_ones_below_it() {
        let mut c = Case::new();
        c.aggregates = vec![("az-a".into(), map(&[(HA_KEY, "false")]))];
        assert_eq!(c.decide().source, Source::Aggregate(vec!["az-a".into()]));
        assert!(!c.decide().ha);
        c.image = Some(map(&[(HA_KEY, "true")]));
        assert_eq!((c.decide().ha, c.decide().source), (true, Source::Image));
        c.flavor = map(&[(HA_KEY, "no")]);
        assert_eq!((c.decide().ha, c.decide().source), (false, Source::Flavor));
        c.instance = map(&[(HA_KEY, "yes")]);
        let d = c.decide();
        assert_eq!((d.ha, &d.source), (true, &Source::Instance));
        assert_eq!(d.to_string(), "HA by instance metadata paddock:ha=yes");
        // and downwards again: removing the top level hands the decision down
        c.instance.clear();
        c.flavor.clear();
        assert_eq!(c.decide().source, Source::Image);
    }

    #[test]
    fn evacuable_is_understood_as_fence_evacuate_does_and_loses_to_paddock_ha() {
        let mut c = Case::new();
        c.default_ha = false;
        c.flavor = map(&[(COMPAT_KEY, "")]);
        assert_eq!((c.decide().ha, c.decide().source), (true, Source::Flavor));
        c.flavor = map(&[(COMPAT_KEY, "True")]);
        assert!(c.decide().ha);
        c.flavor = map(&[(COMPAT_KEY, "false")]);
        assert!(!c.decide().ha);
        c.flavor = map(&[(COMPAT_KEY, "true"), (HA_KEY, "false")]);
        let d = c.decide();
        assert_eq!(
            (d.ha, d.setting.clone()),
            (false, Some((HA_KEY, "false".into())))
        );
    }

    #[test]
    fn an_invalid_value_is_ignored_with_a_note_and_the_next_level_decides() {
        let mut c = Case::new();
        c.instance = map(&[(HA_KEY, "maybe")]);
        c.image = Some(map(&[(HA_KEY, "off")]));
        let d = c.decide();
        assert_eq!((d.ha, &d.source), (false, &Source::Image));
        assert_eq!(d.notes.len(), 1);
        assert!(d.notes[0].contains("\"maybe\""), "{:?}", d.notes);
        // an invalid paddock:ha does not hide a valid evacuable at the same level
        c.instance = map(&[(HA_KEY, "maybe"), (COMPAT_KEY, "true")]);
        assert_eq!((c.decide().ha, c.decide().source), (true, Source::Instance));
    }

    #[test]
    fn agreeing_aggregates_decide_and_disagreeing_ones_leave_it_to_the_default() {
        let mut c = Case::new();
        c.default_ha = true;
        c.aggregates = vec![
            ("rack1".into(), map(&[(HA_KEY, "false")])),
            ("az-a".into(), map(&[("availability_zone", "az-a")])),
            ("gold".into(), map(&[(COMPAT_KEY, "false")])),
        ];
        let d = c.decide();
        assert_eq!(
            d.source,
            Source::Aggregate(vec!["rack1".into(), "gold".into()])
        );
        assert!(!d.ha);
        c.aggregates[2].1 = map(&[(HA_KEY, "true")]);
        let d = c.decide();
        assert_eq!((d.ha, &d.source), (true, &Source::Default));
        assert!(d.notes[0].contains("aggregates disagree"), "{:?}", d.notes);
    }

    #[test]
    fn an_unreachable_image_service_skips_the_image_level_and_says_so() {
        let (instance, flavor) = (BTreeMap::new(), BTreeMap::new());
        let aggregates = vec![("az".to_string(), map(&[(HA_KEY, "false")]))];
        let d = decide(&Inputs {
            instance: &instance,
            flavor: &flavor,
            image: Image::Unavailable("timed out".into()),
            aggregates: &aggregates,
            default_ha: true,
        });
        assert!(!d.ha);
        assert!(
            d.to_string()
                .contains("image properties unknown: timed out"),
            "{d}"
        );
    }
}
