//! The `vm` front end as Pacemaker runs it: it must not load libvirt, and whatever it cannot
//! answer itself (every action but monitor and meta-data, URIs that need the library) reaches
//! the complete agent `vm-libvirt` with the same arguments and environment.

use std::fs;
use std::process::{Command, Output};

fn front() -> &'static str {
    env!("CARGO_BIN_EXE_vm")
}

fn full() -> &'static str {
    env!("CARGO_BIN_EXE_vm-libvirt")
}

fn needed_libraries(binary: &str) -> Vec<String> {
    let out = Command::new("readelf")
        .args(["-d", binary])
        .output()
        .expect("readelf (binutils) must be installed");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| Some(l.split('[').nth(1)?.trim_end_matches(']').to_string()))
        .collect()
}

#[test]
fn front_end_does_not_link_libvirt_and_the_complete_agent_does() {
    let front = needed_libraries(front());
    assert!(!front.is_empty(), "readelf found no libraries at all");
    assert!(!front.iter().any(|l| l.starts_with("libvirt")), "{front:?}");
    let full = needed_libraries(full());
    assert!(full.iter().any(|l| l.starts_with("libvirt.so")), "{full:?}");
}

#[test]
fn both_binaries_print_the_same_meta_data() {
    let a = Command::new(front()).arg("meta-data").output().unwrap();
    let b = Command::new(full()).arg("meta-data").output().unwrap();
    assert_eq!(a.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&a.stdout).contains("<resource-agent name=\"vm\""));
    assert_eq!(a.stdout, b.stdout);
}

fn run(action: &str, dir: &std::path::Path, name: &str) -> Output {
    let cfg = dir.join(format!("{name}.xml"));
    fs::write(
        &cfg,
        format!(
            "<domain type='test'><name>{name}</name><memory unit='MiB'>64</memory>\
             <vcpu>1</vcpu><os><type>hvm</type></os></domain>"
        ),
    )
    .unwrap();
    Command::new(front())
        .arg(action)
        .env("OCF_ROOT", "/usr/lib/ocf")
        .env("OCF_RESOURCE_INSTANCE", format!("r-{name}"))
        .env("HA_RSCTMP", dir)
        .env("OCF_RESKEY_config", &cfg)
        .env("OCF_RESKEY_hypervisor", "test:///default")
        .env("OCF_RESKEY_CRM_meta_timeout", "20000")
        .env("OCF_RESKEY_CRM_meta_interval", "10000")
        .output()
        .expect("run vm")
}

/// test:/// lives inside the libvirt library: only the complete agent can answer. Its default
/// state has one running domain, "test".
#[test]
fn library_only_uris_are_handed_to_the_complete_agent() {
    let dir = tempfile::tempdir().unwrap();
    let o = run("monitor", dir.path(), "test");
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let o = run("monitor", dir.path(), "front-nosuch");
    assert_eq!(o.status.code(), Some(7), "{o:?}");
    let o = run("validate-all", dir.path(), "front-valid");
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    // An action the front end does not know is refused by it, not passed on.
    let o = run("frobnicate", dir.path(), "front-valid");
    assert_eq!(o.status.code(), Some(3), "{o:?}");
}
