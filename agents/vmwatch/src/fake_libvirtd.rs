//! A scripted libvirt daemon on a UNIX socket for the watcher's tests: it answers the calls the
//! watcher makes (authentication, open, keepalive feature, event registration, lookups and
//! states of the domains it is told about) and hands each accepted connection to the test, which
//! sends events (or garbage) down it.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};

const PROGRAM: u32 = 0x2000_8086;
const REPLY: u32 = 1;
const MESSAGE: u32 = 2;

/// Domains the daemon knows: name → (uuid bytes, state, reason).
pub type Domains = Arc<Mutex<BTreeMap<String, ([u8; 16], i32, i32)>>>;

pub struct FakeDaemon {
    pub uri: String,
    pub domains: Domains,
    /// Each connection, once the watcher registered for events (a clone of its stream).
    pub connections: Receiver<UnixStream>,
    _dir: tempfile::TempDir,
}

pub fn start() -> FakeDaemon {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sock");
    let listener = UnixListener::bind(&path).unwrap();
    let domains: Domains = Arc::default();
    let (tx, rx) = mpsc::channel();
    let known = domains.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { return };
            let (tx, known) = (tx.clone(), known.clone());
            std::thread::spawn(move || serve(conn, &known, &tx));
        }
    });
    FakeDaemon {
        uri: format!("qemu+unix:///system?socket={}", path.display()),
        domains,
        connections: rx,
        _dir: dir,
    }
}

fn serve(mut conn: UnixStream, known: &Domains, registered: &mpsc::Sender<UnixStream>) {
    let mut registrations = 0;
    loop {
        let mut length = [0u8; 4];
        if conn.read_exact(&mut length).is_err() {
            return;
        }
        let mut body = vec![0u8; u32::from_be_bytes(length) as usize - 4];
        if conn.read_exact(&mut body).is_err() {
            return;
        }
        let word = |i: usize| u32::from_be_bytes(body[i * 4..i * 4 + 4].try_into().unwrap());
        let (program, procedure, serial) = (word(0), word(2), word(4));
        if program != PROGRAM {
            continue; // keepalive pongs and pings
        }
        let args = &body[24..];
        let reply = match procedure {
            66 => Ok(ints(&[1, 0])),               // one authentication type: none
            1 | 2 => Ok(Vec::new()),               // open, close
            60 => Ok(ints(&[1])),                  // keepalive supported
            316 => Ok(ints(&[registrations + 1])), // callback id
            23 => lookup(known, &decode_string(args)),
            212 => state(known, &decode_string(args)),
            _ => Err("unexpected call"),
        };
        let status = u32::from(reply.is_err());
        let payload = reply.unwrap_or_else(|message| {
            let mut e = ints(&[42, 10, 1]);
            e.extend(string(message));
            e.extend(ints(&[2]));
            e
        });
        let header = [PROGRAM, 1, procedure, REPLY, serial, status];
        if conn.write_all(&frame(header, &payload)).is_err() {
            return;
        }
        if procedure == 316 {
            registrations += 1;
            if registrations == 4 {
                let _ = registered.send(conn.try_clone().unwrap());
            }
        }
    }
}

fn lookup(known: &Domains, name: &str) -> Result<Vec<u8>, &'static str> {
    let known = known.lock().unwrap();
    let (uuid, _, _) = known.get(name).ok_or("Domain not found")?;
    Ok(domain(name, uuid))
}

fn state(known: &Domains, name: &str) -> Result<Vec<u8>, &'static str> {
    let known = known.lock().unwrap();
    let (_, state, reason) = known.get(name).ok_or("Domain not found")?;
    Ok(ints(&[*state, *reason]))
}

/// A lifecycle event (virDomainEventType, detail) about `name`, as the daemon sends it.
pub fn lifecycle_event(name: &str, uuid: &[u8; 16], event: i32, detail: i32) -> Vec<u8> {
    let mut payload = ints(&[1]);
    payload.extend(domain(name, uuid));
    payload.extend(ints(&[event, detail]));
    frame([PROGRAM, 1, 318, MESSAGE, 0, 0], &payload)
}

fn frame(header: [u32; 6], payload: &[u8]) -> Vec<u8> {
    let mut out = ((28 + payload.len()) as u32).to_be_bytes().to_vec();
    for word in header {
        out.extend(word.to_be_bytes());
    }
    out.extend(payload);
    out
}

fn domain(name: &str, uuid: &[u8; 16]) -> Vec<u8> {
    let mut out = string(name);
    out.extend(uuid);
    out.extend(ints(&[1]));
    out
}

fn ints(values: &[i32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_be_bytes()).collect()
}

fn string(s: &str) -> Vec<u8> {
    let mut out = (s.len() as u32).to_be_bytes().to_vec();
    out.extend(s.as_bytes());
    out.resize(out.len() + (4 - s.len() % 4) % 4, 0);
    out
}

fn decode_string(args: &[u8]) -> String {
    let len = u32::from_be_bytes(args[..4].try_into().unwrap()) as usize;
    String::from_utf8_lossy(&args[4..4 + len]).into_owned()
}
