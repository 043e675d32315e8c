//! The parameter table (VirtualDomain-compatible, same defaults) and its typed reading.

use std::path::PathBuf;

use ocf::{Context, OcfError, ParamType, ParameterSpec};

use crate::libvirt::shutdown_flags;

const fn boolean(
    name: &'static str,
    default: Option<&'static str>,
    shortdesc: &'static str,
    longdesc: &'static str,
) -> ParameterSpec {
    ParameterSpec {
        kind: ParamType::Boolean,
        default,
        ..ParameterSpec::string(name, shortdesc, longdesc)
    }
}

const fn integer(
    name: &'static str,
    default: Option<&'static str>,
    shortdesc: &'static str,
    longdesc: &'static str,
) -> ParameterSpec {
    ParameterSpec {
        kind: ParamType::Integer,
        default,
        ..ParameterSpec::string(name, shortdesc, longdesc)
    }
}

/// VirtualDomain parameters this agent does not implement: accepted only at their default value.
const UNSUPPORTED: &[(&str, &str)] = &[
    ("monitor_scripts", "monitor scripts inside the guest are not supported; monitor the service with its own resource"),
    ("sync_config_on_stop", "csync2 synchronisation is not supported; keep the config on shared storage"),
    ("backingfile", "copy-on-write images are not supported; prepare the disk outside the agent"),
    ("stateless", "stateless mode is not supported"),
    ("copyindirs", "virt-copy-in is not supported"),
];

pub fn table() -> Vec<ParameterSpec> {
    vec![
        ParameterSpec {
            required: true,
            unique_group: Some("config"),
            example: Some("/shared/vm1.xml"),
            ..ParameterSpec::string(
                "config",
                "Virtual domain configuration file",
                "Absolute path to the libvirt domain XML of this virtual machine. The domain is started \
                 from this file as a transient domain; start refuses when the file cannot be read.",
            )
        },
        ParameterSpec {
            example: Some("qemu:///system"),
            ..ParameterSpec::string(
                "hypervisor",
                "Hypervisor URI",
                "libvirt connection URI (e.g. qemu:///system). Empty: libvirt's default URI.",
            )
        },
        boolean("force_stop", Some("0"), "Always force shutdown on stop",
            "Destroy the domain on stop without trying a graceful shutdown first."),
        ParameterSpec { default: Some(""), ..ParameterSpec::string("migration_transport", "Remote hypervisor transport",
            "Transport for the connection to the target hypervisor during migration (e.g. ssh, tcp, tls). \
             Empty: the transport of the hypervisor URI.") },
        ParameterSpec::string("migration_user", "Remote username for the remoteuri",
            "User name put into the computed remote URI. Ignored when remoteuri is set."),
        integer("migration_downtime", Some("0"), "Live migration downtime",
            "Maximum tolerable downtime of a live migration, in milliseconds (0: libvirt's default)."),
        integer("migration_speed", Some("0"), "Live migration speed",
            "Bandwidth limit of a live migration, in MiB/s (0: unlimited)."),
        ParameterSpec { default: Some(""), ..ParameterSpec::string("migration_network_suffix", "Migration network host name suffix",
            "Suffix added to the target node name (before its first dot) for a dedicated migration network; \
             applies to the computed remote URI and migration URI.") },
        ParameterSpec::string("migrateuri", "Custom migrateuri for migration state transfer",
            "URI of the migration data stream; %n is replaced by the target node name."),
        ParameterSpec::string("migrate_options", "live migrate options",
            "Extra migration options in virsh spelling. Supported: --unsafe, --compressed, --auto-converge, \
             --abort-on-error, --tls, --migrateuri=URI. Anything else is a configuration error."),
        ParameterSpec { default: Some(""), ..ParameterSpec::string("monitor_scripts", "Not supported",
            "Not supported by this agent: must be empty.") },
        boolean("autoset_utilization_cpu", Some("true"), "Enable auto-setting the CPU utilization of the resource",
            "Put the domain's vCPU count into the resource's cpu utilization (on monitor, only when it changed)."),
        boolean("autoset_utilization_host_memory", Some("true"), "Enable auto-setting the host_memory utilization of the resource",
            "Put the domain's maximum memory (MiB) into the resource's host_memory utilization."),
        boolean("autoset_utilization_hv_memory", Some("true"), "Enable auto-setting the hv_memory utilization of the resource",
            "Put the domain's maximum memory (MiB) into the resource's hv_memory utilization."),
        boolean("unset_utilization_cpu", Some("false"), "Enable auto-removing the CPU utilization of the resource",
            "Remove the cpu utilization attribute on monitor (when autoset_utilization_cpu is false)."),
        boolean("unset_utilization_host_memory", Some("false"), "Enable auto-removing the host_memory utilization of the resource",
            "Remove the host_memory utilization attribute on monitor (when autoset_utilization_host_memory is false)."),
        boolean("unset_utilization_hv_memory", Some("false"), "Enable auto-removing the hv_memory utilization of the resource",
            "Remove the hv_memory utilization attribute on monitor (when autoset_utilization_hv_memory is false)."),
        integer("migrateport", None, "Port for migrateuri",
            "Port of the computed migration URI (with migration_network_suffix). Unset: libvirt chooses."),
        ParameterSpec::string("remoteuri", "Custom remoteuri to communicate with a remote hypervisor",
            "libvirt URI of the target hypervisor; %n is replaced by the target node name."),
        boolean("save_config_on_stop", None, "Save running VM's config back to its config file",
            "On stop and migration, write the domain's current definition back to the config file."),
        ParameterSpec { kind: ParamType::Boolean, ..ParameterSpec::string("sync_config_on_stop", "Not supported",
            "Not supported by this agent (csync2): must be false.") },
        ParameterSpec { default: Some(""), ..ParameterSpec::string("snapshot", "Restore state on start/stop",
            "Directory where the domain's memory is saved on stop (instead of a shutdown) and restored \
             from on start. Incompatible with force_stop.") },
        ParameterSpec { default: Some(""), ..ParameterSpec::string("backingfile", "Not supported",
            "Not supported by this agent: must be empty.") },
        boolean("stateless", Some("false"), "Not supported", "Not supported by this agent: must be false."),
        ParameterSpec { default: Some(""), ..ParameterSpec::string("copyindirs", "Not supported",
            "Not supported by this agent: must be empty.") },
        ParameterSpec { default: Some(""), ..ParameterSpec::string("shutdown_mode", "Shutdown mode",
            "How the graceful shutdown asks the guest: default, acpi, agent, initctl, signal, paravirt, \
             or a comma-separated list of them (libvirt tries them in its order). Empty: libvirt's default.") },
        boolean("start_resources", Some("false"), "Ensure the needed virtual storage pools and networks are started",
            "Start the libvirt networks and storage pools the domain uses before starting or migrating it."),
        ParameterSpec::string("shared_storage", "Paths on shared storage",
            "Space-separated directories that every node sees as the same storage (for validate-all at \
             OCF_CHECK_LEVEL 10, in addition to shared filesystems and network disks)."),
    ]
}

/// One resource's parameters, parsed and checked: what every action works from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub config: PathBuf,
    pub hypervisor: Option<String>,
    pub force_stop: bool,
    /// virDomainShutdownFlags value.
    pub shutdown_flags: u32,
    pub migration_transport: Option<String>,
    pub migration_user: Option<String>,
    pub migration_downtime_ms: u64,
    pub migration_speed_mib_s: u64,
    pub migration_network_suffix: Option<String>,
    pub migrateuri: Option<String>,
    pub migrate_options: Option<String>,
    pub migrateport: Option<u64>,
    pub remoteuri: Option<String>,
    pub autoset_cpu: bool,
    pub autoset_host_memory: bool,
    pub autoset_hv_memory: bool,
    pub unset_cpu: bool,
    pub unset_host_memory: bool,
    pub unset_hv_memory: bool,
    pub save_config_on_stop: bool,
    pub snapshot_dir: Option<PathBuf>,
    pub start_resources: bool,
    pub shared_storage: Vec<PathBuf>,
}

fn non_empty(ctx: &Context, name: &str) -> Option<String> {
    ctx.param(name)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// libvirt's shutdown modes by virsh name.
pub fn shutdown_flags_of(mode: &str) -> Result<u32, OcfError> {
    let mut flags = 0;
    for part in mode.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        flags |= match part {
            "default" => shutdown_flags::DEFAULT,
            "acpi" => shutdown_flags::ACPI_POWER_BTN,
            "agent" => shutdown_flags::GUEST_AGENT,
            "initctl" => shutdown_flags::INITCTL,
            "signal" => shutdown_flags::SIGNAL,
            "paravirt" => shutdown_flags::PARAVIRT,
            other => {
                return Err(OcfError::configured(format!(
                    "parameter 'shutdown_mode': '{other}' is not one of default, acpi, agent, initctl, signal, paravirt"
                )))
            }
        };
    }
    Ok(flags)
}

impl Settings {
    /// Reads and checks the parameters (types were checked by the framework against the table).
    pub fn from_context(ctx: &Context) -> Result<Settings, OcfError> {
        for (name, why) in UNSUPPORTED {
            let set = match ctx.param(name).map(str::trim) {
                None | Some("") => false,
                Some(v) if *name == "stateless" || *name == "sync_config_on_stop" => !matches!(
                    v.to_ascii_lowercase().as_str(),
                    "0" | "false" | "no" | "n" | "off"
                ),
                Some(_) => true,
            };
            if set {
                return Err(OcfError::configured(format!(
                    "parameter '{name}' is not supported: {why}"
                )));
            }
        }
        let config = PathBuf::from(ctx.required_param("config")?);
        if !config.is_absolute() {
            return Err(OcfError::configured(format!(
                "parameter 'config': '{}' is not an absolute path",
                config.display()
            )));
        }
        let snapshot_dir = non_empty(ctx, "snapshot").map(PathBuf::from);
        let force_stop = ctx.param_bool("force_stop")?;
        if force_stop && snapshot_dir.is_some() {
            return Err(OcfError::configured(
                "parameters 'snapshot' and 'force_stop' cannot be used together",
            ));
        }
        let shared_storage = non_empty(ctx, "shared_storage")
            .map(|v| v.split_whitespace().map(PathBuf::from).collect())
            .unwrap_or_default();
        Ok(Settings {
            config,
            hypervisor: non_empty(ctx, "hypervisor"),
            force_stop,
            shutdown_flags: shutdown_flags_of(ctx.param("shutdown_mode").unwrap_or(""))?,
            migration_transport: non_empty(ctx, "migration_transport"),
            migration_user: non_empty(ctx, "migration_user"),
            migration_downtime_ms: ctx.param_u64("migration_downtime")?.unwrap_or(0),
            migration_speed_mib_s: ctx.param_u64("migration_speed")?.unwrap_or(0),
            migration_network_suffix: non_empty(ctx, "migration_network_suffix"),
            migrateuri: non_empty(ctx, "migrateuri"),
            migrate_options: non_empty(ctx, "migrate_options"),
            migrateport: ctx.param_u64("migrateport")?,
            remoteuri: non_empty(ctx, "remoteuri"),
            autoset_cpu: ctx.param_bool("autoset_utilization_cpu")?,
            autoset_host_memory: ctx.param_bool("autoset_utilization_host_memory")?,
            autoset_hv_memory: ctx.param_bool("autoset_utilization_hv_memory")?,
            unset_cpu: ctx.param_bool("unset_utilization_cpu")?,
            unset_host_memory: ctx.param_bool("unset_utilization_host_memory")?,
            unset_hv_memory: ctx.param_bool("unset_utilization_hv_memory")?,
            save_config_on_stop: ctx.param_bool("save_config_on_stop")?,
            snapshot_dir,
            start_resources: ctx.param_bool("start_resources")?,
            shared_storage,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(extra: &[(&str, &str)]) -> Context {
        let mut p: Vec<(&str, &str)> = extra.to_vec();
        p.push(("config", "/etc/vm/a.xml"));
        p.extend(
            table()
                .iter()
                .filter_map(|s| s.default.map(|d| (s.name, d))),
        );
        Context::for_test("start", &p)
    }

    #[test]
    fn defaults_match_virtualdomain() {
        let s = Settings::from_context(&ctx(&[])).expect("defaults are valid");
        assert!(!s.force_stop && s.autoset_cpu && s.autoset_hv_memory && s.autoset_host_memory);
        assert!(!s.unset_cpu && !s.start_resources && !s.save_config_on_stop);
        assert_eq!(
            (
                s.migration_downtime_ms,
                s.migration_speed_mib_s,
                s.shutdown_flags
            ),
            (0, 0, 0)
        );
        assert_eq!(s.snapshot_dir, None);
    }

    #[test]
    fn shutdown_modes_map_to_libvirt_flags() {
        assert_eq!(shutdown_flags_of("acpi").ok(), Some(1));
        assert_eq!(shutdown_flags_of("agent").ok(), Some(2));
        assert_eq!(shutdown_flags_of("initctl").ok(), Some(4));
        assert_eq!(shutdown_flags_of("signal").ok(), Some(8));
        assert_eq!(shutdown_flags_of("paravirt").ok(), Some(16));
        assert_eq!(shutdown_flags_of("acpi,agent").ok(), Some(3));
        assert_eq!(shutdown_flags_of("").ok(), Some(0));
        let e = shutdown_flags_of("reboot").unwrap_err();
        assert_eq!(e.status, ocf::OcfStatus::ErrConfigured);
    }

    #[test]
    fn unsupported_virtualdomain_parameters_are_rejected_when_set() {
        for (k, v) in [
            ("monitor_scripts", "/bin/true"),
            ("stateless", "true"),
            ("backingfile", "/x.qcow2"),
            ("sync_config_on_stop", "1"),
        ] {
            let e = Settings::from_context(&ctx(&[(k, v)])).unwrap_err();
            assert_eq!(e.status, ocf::OcfStatus::ErrConfigured);
            assert!(e.reason.contains(k), "{}", e.reason);
        }
        assert!(Settings::from_context(&ctx(&[
            ("stateless", "false"),
            ("sync_config_on_stop", "0")
        ]))
        .is_ok());
    }

    #[test]
    fn snapshot_with_force_stop_and_relative_config_are_errors() {
        let e =
            Settings::from_context(&ctx(&[("snapshot", "/s"), ("force_stop", "1")])).unwrap_err();
        assert_eq!(e.status, ocf::OcfStatus::ErrConfigured);
        let mut c = ctx(&[]);
        c.params.retain(|(k, _)| k != "config");
        c.params.insert(0, ("config".into(), "vm.xml".into()));
        assert_eq!(
            Settings::from_context(&c).unwrap_err().status,
            ocf::OcfStatus::ErrConfigured
        );
    }
}
