//! HTTPS to Keystone: certificates verified against ssl_ca_file (or the system's roots), or not
//! at all with ssl_insecure. The TLS server is tests/lib/redfish-bmc.sh's sushy-emulator in its
//! `https` mode (a server certificate for 127.0.0.1 issued by a test CA): it is no Keystone, so
//! a verified connection ends in its HTTP answer (401: it wants Basic auth), a refused one in the
//! TLS error.

mod common;

use common::{project_root, run_agent};
use std::path::Path;
use std::process::Command;

const PASSWORD: &str = "Pw-Xyzzy-4711";

struct TlsServer {
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = Command::new(project_root().join("tests/lib/redfish-bmc.sh"))
            .args(["stop", &self.dir.path().display().to_string()])
            .output();
    }
}

fn tls_server() -> Option<TlsServer> {
    let venv =
        std::env::var("PADDOCK_TEST_VENV").unwrap_or_else(|_| "/opt/paddock-test/venv".into());
    if !Path::new(&venv).join("bin/sushy-emulator").is_file() {
        eprintln!("SKIPPED: no sushy-emulator in {venv} (tests/setup.d/redfish.sh installs it)");
        return None;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    for _ in 0..3 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        let output = Command::new(project_root().join("tests/lib/redfish-bmc.sh"))
            .args([
                "start",
                &dir.path().display().to_string(),
                &port.to_string(),
                "https",
                "127.0.0.1",
            ])
            .output()
            .expect("run tests/lib/redfish-bmc.sh");
        if output.status.success() {
            return Some(TlsServer { port, dir });
        }
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("Address already in use"),
            "redfish-bmc.sh start: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    panic!("no free port for the TLS server after 3 tries");
}

#[test]
fn certificates_are_verified_unless_ssl_insecure() {
    let Some(server) = tls_server() else { return };
    let ca = server.dir.path().join("ca.pem").display().to_string();
    let url = format!("https://127.0.0.1:{}/v3", server.port);
    let by_name = format!("https://localhost:{}/v3", server.port);
    let run = |auth_url: &str, extra: &[(&str, &str)]| {
        let mut options = vec![
            ("auth_url", auth_url),
            ("username", "admin"),
            ("project_name", "admin"),
            ("action", "status"),
            ("plug", "compute1"),
        ];
        options.extend_from_slice(extra);
        run_agent(&options, Some(PASSWORD))
    };
    // verified through the CA: the server's own answer (401: it wants Basic auth)
    for auth_url in [url.as_str(), by_name.as_str()] {
        let trusted = run(auth_url, &[("ssl_ca_file", &ca)]);
        trusted.assert_failed_with("HTTP 401: Authorization required");
    }
    // the system's roots do not know the test CA
    run(&url, &[]).assert_failed_with("not trusted (unknown issuer)");
    // not verified at all
    run(&url, &[("ssl_insecure", "1")]).assert_failed_with("HTTP 401: Authorization required");
    run(&url, &[("insecure", "1")]).assert_failed_with("HTTP 401: Authorization required");
}
