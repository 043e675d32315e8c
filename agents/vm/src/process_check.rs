//! Finds a domain's qemu process through /proc, for when libvirtd cannot be asked.
//! libvirt starts qemu with `-name guest=NAME,debug-threads=on` (older: `-name NAME`).

use std::fs;

/// True when `argv` is a qemu emulator started for domain `name`.
pub fn is_qemu_for(argv: &[String], name: &str) -> bool {
    let Some(program) = argv.first() else {
        return false;
    };
    let base = program.rsplit('/').next().unwrap_or(program);
    if !(base.starts_with("qemu-system-") || base == "qemu-kvm" || base == "kvm") {
        return false;
    }
    argv.windows(2).any(|w| {
        w[0] == "-name"
            && (w[1] == name
                || w[1]
                    .split(',')
                    .any(|part| part.strip_prefix("guest=") == Some(name)))
    })
}

/// PIDs of live qemu processes of domain `name`.
pub fn qemu_pids(name: &str) -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()))
        .filter(|pid| {
            let Ok(raw) = fs::read(format!("/proc/{pid}/cmdline")) else {
                return false;
            };
            let argv: Vec<String> = raw
                .split(|b| *b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            is_qemu_for(&argv, name) && !is_zombie(*pid)
        })
        .collect()
}

fn is_zombie(pid: u32) -> bool {
    // /proc/PID/stat: "pid (comm) S ..."; comm may hold spaces and parentheses, so take the last ')'.
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rfind(')')
                .map(|i| s[i + 1..].trim_start().starts_with(['Z', 'X']))
        })
        .unwrap_or(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_string).collect()
    }

    #[test]
    fn matches_libvirt_style_and_plain_names() {
        assert!(is_qemu_for(
            &argv("/usr/bin/qemu-system-x86_64 -name guest=vm1,debug-threads=on -S"),
            "vm1"
        ));
        assert!(is_qemu_for(&argv("qemu-kvm -name vm1 -m 64"), "vm1"));
        assert!(!is_qemu_for(
            &argv("/usr/bin/qemu-system-x86_64 -name guest=vm10,debug-threads=on"),
            "vm1"
        ));
        assert!(!is_qemu_for(
            &argv("/usr/bin/python3 -name guest=vm1"),
            "vm1"
        ));
        assert!(!is_qemu_for(
            &argv("/usr/bin/qemu-system-x86_64 -m 64"),
            "vm1"
        ));
        assert!(!is_qemu_for(&[], "vm1"));
    }

    #[test]
    fn finds_no_process_for_an_unknown_name() {
        assert!(qemu_pids("paddock-no-such-domain-7d1e").is_empty());
    }
}
