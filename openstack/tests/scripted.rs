//! The client against a tiny in-process HTTP server that answers as Keystone and Nova do,
//! including the ways they fail: refused credentials, a refused change with Nova's message,
//! silence (bounded by the deadline), paging. Nothing secret may show in any error or Debug.

use openstack::{Credentials, Deadline, Error, Interface, Secret, Session};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PASSWORD: &str = "Pw-Xyzzy-4711";
const TOKEN: &str = "tok-Xyzzy-4711";

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What to answer: status, extra headers, body.
type Answer = (u16, Vec<(&'static str, String)>, String);
type Script = dyn Fn(&Seen) -> Option<Answer> + Send + Sync;

/// A server on 127.0.0.1 answering each request with `script` (None: never answer).
struct Server {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    fn start(script: impl Fn(&Seen) -> Option<Answer> + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let script: Arc<Script> = Arc::new(script);
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (script, log) = (script.clone(), log.clone());
                std::thread::spawn(move || serve(stream, &*script, &log));
            }
        });
        Server { port, seen }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }
}

fn serve(stream: TcpStream, script: &Script, log: &Mutex<Vec<Seen>>) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut writer = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, path) = (
            parts.next().unwrap_or_default().to_string(),
            parts.next().unwrap_or_default().to_string(),
        );
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((n, v)) = h.split_once(':') {
                headers.push((n.trim().to_string(), v.trim().to_string()));
            }
        }
        let length: usize = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let seen = Seen {
            method,
            path,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        };
        log.lock().expect("lock").push(seen.clone());
        let Some((status, extra, body)) = script(&seen) else {
            // silence: hold the connection open, answer nothing
            std::thread::sleep(Duration::from_secs(30));
            return;
        };
        let mut head = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (n, v) in extra {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
        head.push_str("\r\n");
        if writer.write_all(head.as_bytes()).is_err() || writer.write_all(body.as_bytes()).is_err()
        {
            return;
        }
    }
}

/// A Keystone token answer whose catalog sends compute and image to `url`.
fn token_answer(url: &str) -> Answer {
    let body = json!({"token": {
        "issued_at": "2026-12-01T10:00:00.000000Z",
        "expires_at": "2026-12-01T10:02:00.000000Z",
        "catalog": [
            {"type": "compute", "endpoints": [
                {"interface": "public", "region_id": "RegionOne", "url": format!("{url}/compute/v2.1")},
                {"interface": "internal", "region_id": "RegionOne", "url": format!("{url}/internal/v2.1")}
            ]},
            {"type": "image", "endpoints": [
                {"interface": "public", "region_id": "RegionOne", "url": format!("{url}/image")}
            ]}
        ]
    }});
    (
        201,
        vec![("X-Subject-Token", TOKEN.to_string())],
        body.to_string(),
    )
}

fn credentials(server: &Server) -> Credentials {
    let mut c = Credentials::password(
        &format!("{}/identity/v3", server.url()),
        "admin",
        Secret::new(PASSWORD),
        "admin",
    );
    c.region_name = Some("RegionOne".into());
    c
}

fn deadline() -> Deadline {
    Deadline::after(Duration::from_secs(5))
}

fn assert_no_secret(text: &str) {
    assert!(
        !text.contains(PASSWORD) && !text.contains(TOKEN),
        "a secret leaked: {text}"
    );
}

/// Keystone and Nova on one server: `nova` answers the compute requests.
fn cloud(nova: impl Fn(&Seen) -> Option<Answer> + Send + Sync + 'static) -> Server {
    let base = Arc::new(Mutex::new(String::new()));
    let url = base.clone();
    let server = Server::start(move |seen| {
        if seen.path == "/identity/v3/auth/tokens" {
            Some(token_answer(&url.lock().expect("lock")))
        } else {
            nova(seen)
        }
    });
    *base.lock().expect("lock") = server.url();
    server
}

#[test]
fn refused_credentials_name_the_user_and_hide_the_password() {
    let server = Server::start(|_| {
        Some((
            401,
            vec![],
            json!({"error": {"code": 401, "title": "Unauthorized",
                "message": "The request you have made requires authentication."}})
            .to_string(),
        ))
    });
    let err = Session::login(&credentials(&server), &deadline()).unwrap_err();
    assert!(matches!(err, Error::Auth(_)), "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with("Keystone refused the credentials for user admin"),
        "{text}"
    );
    assert_no_secret(&text);
    assert_no_secret(&format!("{err:?}"));
    // the password went to Keystone, in the body, and nowhere else
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    let body: Value = serde_json::from_str(&seen[0].body).expect("json");
    assert_eq!(
        body["auth"]["identity"]["password"]["user"]["password"],
        PASSWORD
    );
    assert_eq!(
        body["auth"]["scope"]["project"]["domain"]["name"],
        "Default"
    );
    assert!(!seen[0].path.contains(PASSWORD));
}

#[test]
fn a_refused_unforce_carries_novas_message_and_requests_carry_token_and_microversion() {
    let server = cloud(|seen| match (seen.method.as_str(), seen.path.as_str()) {
        ("GET", "/compute/v2.1/os-services?binary=nova-compute") => Some((
            200,
            vec![],
            json!({"services": [
            {"id": "0c1d-uuid", "binary": "nova-compute", "host": "compute1", "zone": "nova",
             "status": "enabled", "state": "down", "forced_down": true, "disabled_reason": null,
             "updated_at": null}]})
            .to_string(),
        )),
        ("PUT", "/compute/v2.1/os-services/0c1d-uuid") => Some((
            400,
            vec![],
            json!({"badRequest": {"code": 400,
            "message": "Service compute1 cannot be unforced: evacuations are not completed"}})
            .to_string(),
        )),
        _ => Some((
            404,
            vec![],
            json!({"itemNotFound": {"message": "no such thing"}}).to_string(),
        )),
    });
    let session = Session::login(&credentials(&server), &deadline()).expect("login");
    assert_no_secret(&format!("{session:?}"));
    assert!(
        session.expires_soon(),
        "a token living 2 minutes expires soon"
    );
    let nova = session.nova().expect("nova");
    assert_no_secret(&format!("{nova:?}"));
    assert_eq!(nova.endpoint(), format!("{}/compute/v2.1", server.url()));
    let services = nova.compute_services(&deadline()).expect("services");
    assert_eq!(services.len(), 1);
    assert!(services[0].forced_down);
    let err = nova
        .set_forced_down("0c1d-uuid", false, &deadline())
        .unwrap_err();
    match &err {
        Error::Refused(m) => assert!(m.contains("evacuations are not completed"), "{m}"),
        other => panic!("not Refused: {other:?}"),
    }
    assert_no_secret(&err.to_string());
    let put = server
        .seen()
        .into_iter()
        .find(|s| s.method == "PUT")
        .expect("a PUT");
    assert_eq!(put.header("X-Auth-Token"), Some(TOKEN));
    assert_eq!(put.header("OpenStack-API-Version"), Some("compute 2.53"));
    assert_eq!(
        serde_json::from_str::<Value>(&put.body).expect("json"),
        json!({"forced_down": false})
    );
    assert!(matches!(
        nova.evacuate("nope", &deadline()),
        Err(Error::NotFound(_))
    ));
}

#[test]
fn the_interface_chooses_the_endpoint() {
    let server = cloud(|_| Some((200, vec![], json!({"services": []}).to_string())));
    let mut c = credentials(&server);
    c.interface = Interface::Internal;
    let nova = Session::login(&c, &deadline())
        .expect("login")
        .nova()
        .expect("nova");
    assert!(nova.endpoint().ends_with("/internal/v2.1"));
    c.interface = Interface::Admin;
    let err = Session::login(&c, &deadline())
        .expect("login")
        .nova()
        .unwrap_err();
    assert!(matches!(err, Error::Catalog(_)), "{err:?}");
    c.region_name = Some("RegionTwo".into());
    c.interface = Interface::Public;
    assert!(Session::login(&c, &deadline())
        .expect("login")
        .nova()
        .is_err());
}

#[test]
fn silence_ends_at_the_deadline() {
    let server = Server::start(|_| None);
    let started = Instant::now();
    let err = Session::login(
        &credentials(&server),
        &Deadline::after(Duration::from_millis(700)),
    )
    .unwrap_err();
    let took = started.elapsed();
    assert!(matches!(err, Error::Timeout(_)), "{err:?}");
    assert!(took < Duration::from_millis(1500), "took {took:?}");
    assert_no_secret(&err.to_string());

    let quiet_nova = cloud(|_| None);
    let nova = Session::login(&credentials(&quiet_nova), &deadline())
        .expect("login")
        .nova()
        .expect("nova");
    let started = Instant::now();
    let err = nova
        .set_forced_down("x", true, &Deadline::after(Duration::from_millis(500)))
        .unwrap_err();
    assert!(matches!(err, Error::Timeout(_)), "{err:?}");
    assert!(started.elapsed() < Duration::from_millis(1300));
    // an expired deadline sends nothing
    let before = quiet_nova.seen().len();
    let err = nova
        .compute_services(&Deadline::after(Duration::ZERO))
        .unwrap_err();
    assert!(matches!(err, Error::Timeout(_)));
    assert_eq!(quiet_nova.seen().len(), before);
}

#[test]
fn nobody_listening_is_a_connect_error() {
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let c = Credentials::password(
        &format!("http://127.0.0.1:{port}/v3"),
        "admin",
        Secret::new(PASSWORD),
        "admin",
    );
    let err = Session::login(&c, &deadline()).unwrap_err();
    assert!(matches!(err, Error::Connect(_)), "{err:?}");
    assert!(err.to_string().contains("connection refused"), "{err}");
}

#[test]
fn servers_are_read_page_by_page() {
    let server = cloud(|seen| {
        if !seen.path.starts_with("/compute/v2.1/servers/detail?") {
            return Some((404, vec![], String::new()));
        }
        assert!(seen.path.contains("all_tenants=1") && seen.path.contains("host=compute1"));
        // 450 servers: pages of 200, 200, 50
        let start = match seen.path.split("marker=").nth(1) {
            None => 0,
            Some(marker) => {
                marker
                    .trim_start_matches("s")
                    .parse::<usize>()
                    .expect("marker")
                    + 1
            }
        };
        let servers: Vec<Value> = (start..(start + 200).min(450))
            .map(|i| {
                json!({"id": format!("s{i:03}"), "name": format!("vm{i}"), "status": "ACTIVE",
                "OS-EXT-SRV-ATTR:host": "compute1", "metadata": {}, "flavor": {"extra_specs": {}},
                "image": {"id": "img"}})
            })
            .collect();
        Some((200, vec![], json!({"servers": servers}).to_string()))
    });
    let nova = Session::login(&credentials(&server), &deadline())
        .expect("login")
        .nova()
        .expect("nova");
    let servers = nova
        .servers_on_host("compute1", &deadline())
        .expect("servers");
    assert_eq!(servers.len(), 450);
    assert_eq!(servers[449].id, "s449");
    let pages: Vec<String> = server
        .seen()
        .into_iter()
        .map(|s| s.path)
        .filter(|p| p.contains("servers"))
        .collect();
    assert_eq!(pages.len(), 3, "{pages:?}");
    assert!(
        pages[1].contains("marker=s199") && pages[2].contains("marker=s399"),
        "{pages:?}"
    );
}

#[test]
fn a_busy_nova_is_asked_again_for_reads_only() {
    let calls = Arc::new(Mutex::new(0u32));
    let count = calls.clone();
    let server = cloud(move |seen| {
        let mut n = count.lock().expect("lock");
        *n += 1;
        if seen.method == "GET" && *n < 3 {
            return Some((503, vec![], "<html>Service Unavailable</html>".to_string()));
        }
        if seen.method == "PUT" {
            return Some((503, vec![], "<html>Service Unavailable</html>".to_string()));
        }
        Some((200, vec![], json!({"services": []}).to_string()))
    });
    let nova = Session::login(&credentials(&server), &deadline())
        .expect("login")
        .nova()
        .expect("nova");
    assert_eq!(
        nova.compute_services(&deadline())
            .expect("third time lucky")
            .len(),
        0
    );
    assert_eq!(*calls.lock().expect("lock"), 3);
    let err = nova.set_forced_down("x", true, &deadline()).unwrap_err();
    assert_eq!(*calls.lock().expect("lock"), 4, "a change is sent once");
    assert!(matches!(err, Error::Http { status: 503, .. }), "{err:?}");
    assert!(err.to_string().contains("Service Unavailable"), "{err}");
}

#[test]
fn application_credentials_log_in_without_a_user() {
    let server = cloud(|_| None);
    let mut c = credentials(&server);
    c.username = String::new();
    c.application_credential = Some(("app-1".into(), Secret::new(PASSWORD)));
    Session::login(&c, &deadline()).expect("login");
    let body: Value = serde_json::from_str(&server.seen()[0].body).expect("json");
    assert_eq!(
        body["auth"]["identity"]["application_credential"]["id"],
        "app-1"
    );
    assert_eq!(
        body["auth"]["identity"]["application_credential"]["secret"],
        PASSWORD
    );
}

#[test]
fn a_cached_token_saves_the_login_until_forgotten() {
    let logins = Arc::new(Mutex::new(0u32));
    let count = logins.clone();
    let base = Arc::new(Mutex::new(String::new()));
    let url = base.clone();
    let server = Server::start(move |seen| {
        if seen.path != "/identity/v3/auth/tokens" {
            return Some((200, vec![], json!({"services": []}).to_string()));
        }
        *count.lock().expect("lock") += 1;
        let (status, headers, body) = token_answer(&url.lock().expect("lock"));
        // an hour of life, so that the cache keeps it
        let mut body: Value = serde_json::from_str(&body).expect("json");
        body["token"]["expires_at"] = json!("2026-12-01T11:00:00.000000Z");
        Some((status, headers, body.to_string()))
    });
    *base.lock().expect("lock") = server.url();
    let dir = tempfile::tempdir().expect("dir");
    let cache = openstack::TokenCache::new(dir.path().join("tokens"));
    let c = credentials(&server);
    let first = Session::login_cached(&c, &deadline(), &cache).expect("login");
    assert!(!first.reused());
    let second = Session::login_cached(&c, &deadline(), &cache).expect("cached");
    assert!(second.reused() && !second.expires_soon());
    assert_eq!(*logins.lock().expect("lock"), 1);
    second
        .nova()
        .expect("catalog kept")
        .compute_services(&deadline())
        .expect("services");
    let nova_request = server
        .seen()
        .into_iter()
        .rfind(|s| s.method == "GET")
        .expect("a GET");
    assert_eq!(nova_request.header("X-Auth-Token"), Some(TOKEN));
    // the file holds the token, so no one else may read it
    for entry in std::fs::read_dir(dir.path().join("tokens")).expect("dir") {
        use std::os::unix::fs::PermissionsExt;
        let mode = entry
            .expect("entry")
            .metadata()
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0);
    }
    cache.forget(&c);
    assert!(!Session::login_cached(&c, &deadline(), &cache)
        .expect("login")
        .reused());
    assert_eq!(*logins.lock().expect("lock"), 2);
}

#[test]
fn a_disable_nova_saves_but_does_not_answer_is_confirmed_by_reading_it_back() {
    // Nova saves the status, then waits on an RPC to a nova-compute that just died
    let saved: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let status = saved.clone();
    let server = cloud(
        move |seen| match (seen.method.as_str(), seen.path.as_str()) {
            ("GET", "/compute/v2.1/os-services?binary=nova-compute") => {
                let reason = status.lock().expect("lock").clone();
                Some((
                    200,
                    vec![],
                    json!({"services": [
                {"id": "0c1d-uuid", "binary": "nova-compute", "host": "compute1", "zone": "nova",
                 "status": if reason.is_some() { "disabled" } else { "enabled" }, "state": "up",
                 "forced_down": false, "disabled_reason": reason, "updated_at": null}]})
                    .to_string(),
                ))
            }
            ("PUT", "/compute/v2.1/os-services/0c1d-uuid") => {
                let body: Value = serde_json::from_str(&seen.body).expect("json");
                *status.lock().expect("lock") =
                    body["disabled_reason"].as_str().map(str::to_string);
                None
            }
            _ => None,
        },
    );
    let nova = Session::login(&credentials(&server), &deadline())
        .expect("login")
        .nova()
        .expect("nova");
    let started = Instant::now();
    nova.set_disabled(
        "0c1d-uuid",
        Some("paddock-test: gone"),
        &Deadline::after(Duration::from_secs(8)),
    )
    .expect("the change, seen applied, is a success");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(3) && took < Duration::from_secs(5),
        "took {took:?}"
    );
    assert_eq!(
        saved.lock().expect("lock").as_deref(),
        Some("paddock-test: gone")
    );

    // not applied at all: a timeout, within the deadline
    let silent = cloud(|seen| match (seen.method.as_str(), seen.path.as_str()) {
        ("GET", "/compute/v2.1/os-services?binary=nova-compute") => Some((
            200,
            vec![],
            json!({"services": [
            {"id": "0c1d-uuid", "binary": "nova-compute", "host": "compute1", "zone": "nova",
             "status": "enabled", "state": "up", "forced_down": false, "disabled_reason": null,
             "updated_at": null}]})
            .to_string(),
        )),
        _ => None,
    });
    let nova = Session::login(&credentials(&silent), &deadline())
        .expect("login")
        .nova()
        .expect("nova");
    let started = Instant::now();
    let err = nova
        .set_disabled(
            "0c1d-uuid",
            Some("x"),
            &Deadline::after(Duration::from_secs(5)),
        )
        .unwrap_err();
    assert!(matches!(err, Error::Timeout(_)), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_millis(5600),
        "took {:?}",
        started.elapsed()
    );
}
