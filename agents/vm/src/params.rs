//! The parameter table (VirtualDomain-compatible, same defaults) and its typed reading.

use std::path::PathBuf;

use ocf::{Context, OcfError, ParamType, ParameterSpec};

use crate::libvirt::shutdown_flags;

pub const CONFIG: ParameterSpec = ParameterSpec::new(
    "config",
    ParamType::String,
    "Virtual domain configuration file",
    "Absolute path to the libvirt domain XML of this virtual machine. The domain is started \
     from this file as a transient domain; start refuses when the file cannot be read.",
)
.required()
.unique_group("config")
.example("/shared/vm1.xml");
pub const HYPERVISOR: ParameterSpec = ParameterSpec::new(
    "hypervisor",
    ParamType::String,
    "Hypervisor URI",
    "libvirt connection URI (e.g. qemu:///system). Empty: libvirt's default URI.",
)
.example("qemu:///system");
pub const FORCE_STOP: ParameterSpec = ParameterSpec::new(
    "force_stop",
    ParamType::Boolean,
    "Always force shutdown on stop",
    "Destroy the domain on stop without trying a graceful shutdown first.",
)
.default("0");
pub const MIGRATION_TRANSPORT: ParameterSpec = ParameterSpec::new(
    "migration_transport",
    ParamType::String,
    "Remote hypervisor transport",
    "Transport for the connection to the target hypervisor during migration (e.g. ssh, tcp, \
     tls). Empty: the transport of the hypervisor URI.",
)
.default("");
pub const MIGRATION_USER: ParameterSpec = ParameterSpec::new(
    "migration_user",
    ParamType::String,
    "Remote username for the remoteuri",
    "User name put into the computed remote URI. Ignored when remoteuri is set.",
);
pub const MIGRATION_DOWNTIME: ParameterSpec = ParameterSpec::new(
    "migration_downtime",
    ParamType::Integer,
    "Live migration downtime",
    "Maximum tolerable downtime of a live migration, in milliseconds (0: libvirt's default).",
)
.default("0");
pub const MIGRATION_SPEED: ParameterSpec = ParameterSpec::new(
    "migration_speed",
    ParamType::Integer,
    "Live migration speed",
    "Bandwidth limit of a live migration, in MiB/s (0: unlimited).",
)
.default("0");
pub const MIGRATION_NETWORK_SUFFIX: ParameterSpec = ParameterSpec::new(
    "migration_network_suffix",
    ParamType::String,
    "Migration network host name suffix",
    "Suffix added to the target node name (before its first dot) for a dedicated migration \
     network; applies to the computed remote URI and migration URI.",
)
.default("");
pub const MIGRATEURI: ParameterSpec = ParameterSpec::new(
    "migrateuri",
    ParamType::String,
    "Custom migrateuri for migration state transfer",
    "URI of the migration data stream; %n is replaced by the target node name.",
);
pub const MIGRATE_OPTIONS: ParameterSpec = ParameterSpec::new(
    "migrate_options",
    ParamType::String,
    "live migrate options",
    "Extra migration options in virsh spelling. Supported: --unsafe, --compressed, \
     --auto-converge, --abort-on-error, --tls, --migrateuri=URI. Anything else is a \
     configuration error.",
);
pub const MONITOR_SCRIPTS: ParameterSpec = ParameterSpec::new(
    "monitor_scripts",
    ParamType::String,
    "Not supported",
    "Not supported by this agent: must be empty.",
)
.default("");
pub const AUTOSET_UTILIZATION_CPU: ParameterSpec = ParameterSpec::new(
    "autoset_utilization_cpu",
    ParamType::Boolean,
    "Enable auto-setting the CPU utilization of the resource",
    "Put the domain's vCPU count into the resource's cpu utilization (on monitor, only when \
     it changed).",
)
.default("true");
pub const AUTOSET_UTILIZATION_HOST_MEMORY: ParameterSpec = ParameterSpec::new(
    "autoset_utilization_host_memory",
    ParamType::Boolean,
    "Enable auto-setting the host_memory utilization of the resource",
    "Put the domain's maximum memory (MiB) into the resource's host_memory utilization.",
)
.default("true");
pub const AUTOSET_UTILIZATION_HV_MEMORY: ParameterSpec = ParameterSpec::new(
    "autoset_utilization_hv_memory",
    ParamType::Boolean,
    "Enable auto-setting the hv_memory utilization of the resource",
    "Put the domain's maximum memory (MiB) into the resource's hv_memory utilization.",
)
.default("true");
pub const UNSET_UTILIZATION_CPU: ParameterSpec = ParameterSpec::new(
    "unset_utilization_cpu",
    ParamType::Boolean,
    "Enable auto-removing the CPU utilization of the resource",
    "Remove the cpu utilization attribute on monitor (when autoset_utilization_cpu is false).",
)
.default("false");
pub const UNSET_UTILIZATION_HOST_MEMORY: ParameterSpec = ParameterSpec::new(
    "unset_utilization_host_memory",
    ParamType::Boolean,
    "Enable auto-removing the host_memory utilization of the resource",
    "Remove the host_memory utilization attribute on monitor (when \
     autoset_utilization_host_memory is false).",
)
.default("false");
pub const UNSET_UTILIZATION_HV_MEMORY: ParameterSpec = ParameterSpec::new(
    "unset_utilization_hv_memory",
    ParamType::Boolean,
    "Enable auto-removing the hv_memory utilization of the resource",
    "Remove the hv_memory utilization attribute on monitor (when \
     autoset_utilization_hv_memory is false).",
)
.default("false");
pub const MIGRATEPORT: ParameterSpec = ParameterSpec::new(
    "migrateport",
    ParamType::Integer,
    "Port for migrateuri",
    "Port of the computed migration URI (with migration_network_suffix). Unset: libvirt chooses.",
);
pub const REMOTEURI: ParameterSpec = ParameterSpec::new(
    "remoteuri",
    ParamType::String,
    "Custom remoteuri to communicate with a remote hypervisor",
    "libvirt URI of the target hypervisor; %n is replaced by the target node name.",
);
pub const SAVE_CONFIG_ON_STOP: ParameterSpec = ParameterSpec::new(
    "save_config_on_stop",
    ParamType::Boolean,
    "Save running VM's config back to its config file",
    "On stop and migration, write the domain's current definition back to the config file.",
);
pub const SYNC_CONFIG_ON_STOP: ParameterSpec = ParameterSpec::new(
    "sync_config_on_stop",
    ParamType::Boolean,
    "Not supported",
    "Not supported by this agent (csync2): must be false.",
);
pub const SNAPSHOT: ParameterSpec = ParameterSpec::new(
    "snapshot",
    ParamType::String,
    "Restore state on start/stop",
    "Directory where the domain's memory is saved on stop (instead of a shutdown) and \
     restored from on start. Incompatible with force_stop.",
)
.default("");
pub const BACKINGFILE: ParameterSpec = ParameterSpec::new(
    "backingfile",
    ParamType::String,
    "Not supported",
    "Not supported by this agent: must be empty.",
)
.default("");
pub const STATELESS: ParameterSpec = ParameterSpec::new(
    "stateless",
    ParamType::Boolean,
    "Not supported",
    "Not supported by this agent: must be false.",
)
.default("false");
pub const COPYINDIRS: ParameterSpec = ParameterSpec::new(
    "copyindirs",
    ParamType::String,
    "Not supported",
    "Not supported by this agent: must be empty.",
)
.default("");
pub const SHUTDOWN_MODE: ParameterSpec = ParameterSpec::new(
    "shutdown_mode",
    ParamType::String,
    "Shutdown mode",
    "How the graceful shutdown asks the guest: default, acpi, agent, initctl, signal, \
     paravirt, or a comma-separated list of them (libvirt tries them in its order). Empty: \
     libvirt's default.",
)
.default("");
pub const START_RESOURCES: ParameterSpec = ParameterSpec::new(
    "start_resources",
    ParamType::Boolean,
    "Ensure the needed virtual storage pools and networks are started",
    "Start the libvirt networks and storage pools the domain uses before starting or \
     migrating it.",
)
.default("false");
pub const SHARED_STORAGE: ParameterSpec = ParameterSpec::new(
    "shared_storage",
    ParamType::String,
    "Paths on shared storage",
    "Space-separated directories that every node sees as the same storage (for validate-all \
     at OCF_CHECK_LEVEL 10, in addition to shared filesystems and network disks).",
);

/// The table, in metadata order.
pub fn table() -> Vec<ParameterSpec> {
    vec![
        CONFIG,
        HYPERVISOR,
        FORCE_STOP,
        MIGRATION_TRANSPORT,
        MIGRATION_USER,
        MIGRATION_DOWNTIME,
        MIGRATION_SPEED,
        MIGRATION_NETWORK_SUFFIX,
        MIGRATEURI,
        MIGRATE_OPTIONS,
        MONITOR_SCRIPTS,
        AUTOSET_UTILIZATION_CPU,
        AUTOSET_UTILIZATION_HOST_MEMORY,
        AUTOSET_UTILIZATION_HV_MEMORY,
        UNSET_UTILIZATION_CPU,
        UNSET_UTILIZATION_HOST_MEMORY,
        UNSET_UTILIZATION_HV_MEMORY,
        MIGRATEPORT,
        REMOTEURI,
        SAVE_CONFIG_ON_STOP,
        SYNC_CONFIG_ON_STOP,
        SNAPSHOT,
        BACKINGFILE,
        STATELESS,
        COPYINDIRS,
        SHUTDOWN_MODE,
        START_RESOURCES,
        SHARED_STORAGE,
    ]
}

/// VirtualDomain parameters this agent does not implement: accepted only at their default value.
const UNSUPPORTED: &[(ParameterSpec, &str)] = &[
    (MONITOR_SCRIPTS, "monitor scripts inside the guest are not supported; monitor the service with its own resource"),
    (SYNC_CONFIG_ON_STOP, "csync2 synchronisation is not supported; keep the config on shared storage"),
    (BACKINGFILE, "copy-on-write images are not supported; prepare the disk outside the agent"),
    (STATELESS, "stateless mode is not supported"),
    (COPYINDIRS, "virt-copy-in is not supported"),
];

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

fn owned(ctx: &Context, spec: &ParameterSpec) -> Option<String> {
    ctx.text(spec).map(str::to_string)
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
        for (spec, why) in UNSUPPORTED {
            let set = match spec.kind {
                ParamType::Boolean => ctx.flag(spec).unwrap_or(true),
                _ => ctx.text(spec).is_some(),
            };
            if set {
                return Err(OcfError::configured(format!(
                    "parameter '{}' is not supported: {why}",
                    spec.name
                )));
            }
        }
        let config = PathBuf::from(ctx.required(&CONFIG)?);
        if !config.is_absolute() {
            return Err(OcfError::configured(format!(
                "parameter 'config': '{}' is not an absolute path",
                config.display()
            )));
        }
        let snapshot_dir = ctx.text(&SNAPSHOT).map(PathBuf::from);
        let force_stop = ctx.flag(&FORCE_STOP)?;
        if force_stop && snapshot_dir.is_some() {
            return Err(OcfError::configured(
                "parameters 'snapshot' and 'force_stop' cannot be used together",
            ));
        }
        let shared_storage = ctx
            .text(&SHARED_STORAGE)
            .map(|v| v.split_whitespace().map(PathBuf::from).collect())
            .unwrap_or_default();
        Ok(Settings {
            config,
            hypervisor: owned(ctx, &HYPERVISOR),
            force_stop,
            shutdown_flags: shutdown_flags_of(ctx.text(&SHUTDOWN_MODE).unwrap_or(""))?,
            migration_transport: owned(ctx, &MIGRATION_TRANSPORT),
            migration_user: owned(ctx, &MIGRATION_USER),
            migration_downtime_ms: ctx.unsigned(&MIGRATION_DOWNTIME)?.unwrap_or(0),
            migration_speed_mib_s: ctx.unsigned(&MIGRATION_SPEED)?.unwrap_or(0),
            migration_network_suffix: owned(ctx, &MIGRATION_NETWORK_SUFFIX),
            migrateuri: owned(ctx, &MIGRATEURI),
            migrate_options: owned(ctx, &MIGRATE_OPTIONS),
            migrateport: ctx.unsigned(&MIGRATEPORT)?,
            remoteuri: owned(ctx, &REMOTEURI),
            autoset_cpu: ctx.flag(&AUTOSET_UTILIZATION_CPU)?,
            autoset_host_memory: ctx.flag(&AUTOSET_UTILIZATION_HOST_MEMORY)?,
            autoset_hv_memory: ctx.flag(&AUTOSET_UTILIZATION_HV_MEMORY)?,
            unset_cpu: ctx.flag(&UNSET_UTILIZATION_CPU)?,
            unset_host_memory: ctx.flag(&UNSET_UTILIZATION_HOST_MEMORY)?,
            unset_hv_memory: ctx.flag(&UNSET_UTILIZATION_HV_MEMORY)?,
            save_config_on_stop: ctx.flag(&SAVE_CONFIG_ON_STOP)?,
            snapshot_dir,
            start_resources: ctx.flag(&START_RESOURCES)?,
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
