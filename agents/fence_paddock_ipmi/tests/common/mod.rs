//! Test support: a real ipmi_sim BMC per test (tests/lib/ipmi-bmc.sh), stopped on drop even
//! when the test fails, on a port nobody else uses right now.
#![allow(dead_code)]

use std::net::{TcpListener, UdpSocket};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn bmc_script() -> PathBuf {
    repo_root().join("tests/lib/ipmi-bmc.sh")
}

/// A port free for both UDP (the LAN channel) and TCP (the VM serial channel) on 127.0.0.1.
pub fn free_port() -> u16 {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let base = 27000 + (std::process::id() % 200) as u16 * 20;
    loop {
        let p = base + NEXT.fetch_add(1, Ordering::SeqCst) % 2000;
        if UdpSocket::bind(("127.0.0.1", p)).is_ok() && TcpListener::bind(("127.0.0.1", p)).is_ok()
        {
            return p;
        }
    }
}

pub struct Bmc {
    pub name: String,
    pub port: u16,
    dir: PathBuf,
}

/// Fails the test with what is missing and how to get it, before anything else goes wrong.
pub fn require_program(program: &str, package: &str) {
    let found = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "{program} is not installed: install Debian's {package} (make setup does)"
    );
}

impl Bmc {
    pub fn start(tag: &str, extra: &[&str]) -> Bmc {
        require_program("ipmi_sim", "openipmi");
        let dir = std::env::temp_dir().join("paddock-ipmi-tests");
        let mut last_error = String::new();
        // Another process may take the port between our check and ipmi_sim's bind: try again
        // on a new one then.
        for _ in 0..5 {
            let port = free_port();
            let name = format!("{tag}-{}-{port}", std::process::id());
            let out = Command::new(bmc_script())
                .env("IPMI_BMC_DIR", &dir)
                .args(["start", &name, &port.to_string()])
                .args(extra)
                .output()
                .expect("run tests/lib/ipmi-bmc.sh (bash)");
            if out.status.success() {
                return Bmc { name, port, dir };
            }
            last_error = String::from_utf8_lossy(&out.stderr).into_owned();
            if !last_error.contains("in use") && !last_error.contains("did not bind") {
                break;
            }
        }
        panic!(
            "ipmi-bmc.sh start failed (is openipmi installed? run tests/setup.sh): {last_error}"
        );
    }

    fn script(&self, args: &[&str]) -> std::process::Output {
        Command::new(bmc_script())
            .env("IPMI_BMC_DIR", &self.dir)
            .args(args)
            .output()
            .expect("run ipmi-bmc.sh")
    }

    /// The machine's real power state as the simulator has it: "on" or "off".
    pub fn power(&self) -> String {
        String::from_utf8_lossy(&self.script(&["power", &self.name]).stdout)
            .trim()
            .to_string()
    }

    /// Wait until the machine is in `state`; false after `secs`.
    pub fn wait_power(&self, state: &str, secs: u64) -> bool {
        let end = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < end {
            if self.power() == state {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }
}

impl Drop for Bmc {
    fn drop(&mut self) {
        let _ = self.script(&["stop", &self.name]);
        let _ = std::fs::remove_dir_all(self.dir.join(&self.name));
    }
}
