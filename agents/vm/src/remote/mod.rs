//! A client for the few calls of libvirt's remote protocol that monitor needs (authenticate,
//! open, look up a domain, its state and size, close), so that the `vm` front end answers a
//! monitor without loading libvirt and its fifty-odd shared libraries, which cost more CPU
//! than the whole check. Every read and write is bounded by the caller's deadline.

mod endpoint;
mod events;
mod xdr;

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use ocf::Deadline;

pub use endpoint::{Address, Endpoint};
pub use events::{DomainEvent, EventKind};
use xdr::{DecodeError, Decoder, Encoder};

use crate::domain_state::{DomainFacts, DomainSize, DomainStatus, ErrorKind, LibvirtError};

/// REMOTE_PROGRAM and REMOTE_PROTOCOL_VERSION.
const PROGRAM: u32 = 0x2000_8086;
const VERSION: u32 = 1;

/// The procedures used (remote_procedure).
mod proc {
    pub const CONNECT_OPEN: u32 = 1;
    pub const CONNECT_CLOSE: u32 = 2;
    pub const DOMAIN_GET_INFO: u32 = 16;
    pub const DOMAIN_LOOKUP_BY_NAME: u32 = 23;
    pub const DOMAIN_LOOKUP_BY_UUID: u32 = 24;
    pub const AUTH_LIST: u32 = 66;
    pub const AUTH_POLKIT: u32 = 70;
    pub const DOMAIN_GET_STATE: u32 = 212;
    pub const CONNECT_SUPPORTS_FEATURE: u32 = 60;
    pub const CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY: u32 = 316;
}

/// remote_auth_type.
const AUTH_NONE: i32 = 0;
const AUTH_POLKIT: i32 = 2;

const CALL: u32 = 0;
const REPLY: u32 = 1;
/// An asynchronous message: an event, or keepalive traffic.
const MESSAGE: u32 = 2;
/// libvirt's keepalive program (its name in ASCII), which answers PING with PONG.
const KEEPALIVE_PROGRAM: u32 = 0x6b65_6570;
const KEEPALIVE_VERSION: u32 = 1;
const KEEPALIVE_PING: u32 = 1;
const KEEPALIVE_PONG: u32 = 2;
/// Events kept while a call waits for its reply; past it they are dropped and the caller told.
const EVENT_QUEUE_MAX: usize = 4096;
const STATUS_OK: u32 = 0;
const STATUS_ERROR: u32 = 1;
/// Length word plus the six header words.
const HEADER_LEN: usize = 28;
/// Far above any reply to these calls; refuses garbage lengths without allocating them.
const MESSAGE_MAX: usize = 4 << 20;

/// Why the client cannot open a connection.
#[derive(Debug)]
pub enum OpenError {
    /// The URI or the daemon's authentication needs the libvirt library.
    NeedsLibrary(String),
    Libvirt(LibvirtError),
}

enum Stream {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Stream {
    fn set_read_timeout(&self, t: Duration) -> std::io::Result<()> {
        match self {
            Stream::Unix(s) => s.set_read_timeout(Some(t)),
            Stream::Tcp(s) => s.set_read_timeout(Some(t)),
        }
    }
    fn set_write_timeout(&self, t: Duration) -> std::io::Result<()> {
        match self {
            Stream::Unix(s) => s.set_write_timeout(Some(t)),
            Stream::Tcp(s) => s.set_write_timeout(Some(t)),
        }
    }
    fn io(&mut self) -> &mut dyn ReadWrite {
        match self {
            Stream::Unix(s) => s,
            Stream::Tcp(s) => s,
        }
    }
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

/// An open connection to a libvirt daemon.
pub struct Client {
    stream: Stream,
    uri: String,
    serial: u32,
    /// Set once a call failed half-way: the stream's framing can no longer be trusted.
    broken: bool,
    /// The operation's deadline, which closing may use.
    deadline: Deadline,
    /// Events that arrived while a call waited for its reply.
    events: VecDeque<Message>,
    /// Set when events were dropped (queue full): the watcher must resynchronise.
    events_lost: bool,
    /// When the daemon last sent anything (replies, events, keepalives).
    last_heard: Instant,
}

/// A domain as the protocol names it (remote_nonnull_domain).
struct DomainRef {
    name: String,
    uuid: [u8; 16],
    id: i32,
}

impl Client {
    /// Connects to the daemon behind `uri` (None: `LIBVIRT_DEFAULT_URI`, else the local qemu
    /// system daemon), authenticates and opens the connection, all before `deadline`.
    pub fn connect(uri: Option<&str>, deadline: Deadline) -> Result<Client, OpenError> {
        let uri = match uri {
            Some(u) => u.to_string(),
            None => default_uri()?,
        };
        let endpoint = Endpoint::for_uri(&uri).map_err(|why| {
            OpenError::NeedsLibrary(format!("{uri}: {why} needs the libvirt library"))
        })?;
        let connect_error = |message: String| {
            OpenError::Libvirt(LibvirtError::Connect {
                uri: uri.clone(),
                message,
            })
        };
        let stream = match &endpoint.address {
            Address::Unix(path) => UnixStream::connect(path)
                .map(Stream::Unix)
                .map_err(|e| connect_error(format!("{}: {e}", path.display())))?,
            Address::Tcp { host, port } => {
                let addrs = ocf::resolve(host, *port, deadline).map_err(connect_error)?;
                connect_tcp(&addrs, deadline)
                    .map(Stream::Tcp)
                    .map_err(connect_error)?
            }
        };
        let mut client = Client {
            stream,
            uri: uri.clone(),
            serial: 0,
            broken: false,
            deadline,
            events: VecDeque::new(),
            events_lost: false,
            last_heard: Instant::now(),
        };
        client.authenticate(deadline)?;
        let mut args = Encoder::new();
        args.optional_string(Some(&endpoint.open_uri)).u32(0);
        client
            .call("open", proc::CONNECT_OPEN, args, deadline)
            .map_err(|e| match e {
                LibvirtError::Call { message, .. } => connect_error(message),
                other => OpenError::Libvirt(other),
            })?;
        Ok(client)
    }

    /// Polkit needs no exchange beyond the call (the daemon checks our credentials itself);
    /// SASL needs the library.
    fn authenticate(&mut self, deadline: Deadline) -> Result<(), OpenError> {
        let reply = match self.call(
            "list authentication types",
            proc::AUTH_LIST,
            Encoder::new(),
            deadline,
        ) {
            // A daemon without the call wants no authentication.
            Err(LibvirtError::Call { .. }) => return Ok(()),
            other => other.map_err(OpenError::Libvirt)?,
        };
        let mut d = Decoder::new(&reply);
        let types = decode_int_list(&mut d).map_err(|e| self.decode_failure(e))?;
        if types.is_empty() || types.contains(&AUTH_NONE) {
            return Ok(());
        }
        if types.contains(&AUTH_POLKIT) {
            return self
                .call(
                    "polkit authentication",
                    proc::AUTH_POLKIT,
                    Encoder::new(),
                    deadline,
                )
                .map(|_| ())
                .map_err(|e| {
                    OpenError::Libvirt(LibvirtError::Connect {
                        uri: self.uri.clone(),
                        message: e.to_string(),
                    })
                });
        }
        Err(OpenError::NeedsLibrary(format!(
            "{} wants SASL authentication",
            self.uri
        )))
    }

    fn decode_failure(&mut self, e: DecodeError) -> OpenError {
        self.broken = true;
        OpenError::Libvirt(LibvirtError::Connect {
            uri: self.uri.clone(),
            message: format!("not a libvirt daemon: {}", e.0),
        })
    }

    /// The domain named `name` (or, failing that, with `uuid`), None when libvirt does not know it.
    pub fn find(
        &mut self,
        name: &str,
        uuid: Option<&str>,
        deadline: Deadline,
    ) -> Result<Option<DomainFacts>, LibvirtError> {
        let Some(dom) = self.lookup(name, uuid, deadline)? else {
            return Ok(None);
        };
        let mut args = Encoder::new();
        encode_domain(&mut args, &dom);
        args.u32(0);
        let reply = match self.call("read domain state", proc::DOMAIN_GET_STATE, args, deadline) {
            // The domain vanished between lookup and state (a transient domain stopping).
            Err(e) if e.is_no_domain() => return Ok(None),
            other => other?,
        };
        let mut d = Decoder::new(&reply);
        let (state, reason) =
            (|| Ok((d.i32()?, d.i32()?)))().map_err(|e| self.bad_reply("read domain state", e))?;
        Ok(Some(DomainFacts {
            name: dom.name,
            uuid: uuid_string(&dom.uuid),
            status: DomainStatus::from_codes(state, reason),
        }))
    }

    pub fn size(&mut self, name: &str, deadline: Deadline) -> Result<DomainSize, LibvirtError> {
        let what = "read domain info";
        let dom = self
            .lookup(name, None, deadline)?
            .ok_or(LibvirtError::Call {
                what: what.into(),
                kind: ErrorKind::NoDomain,
                message: format!("no domain {name}"),
            })?;
        let mut args = Encoder::new();
        encode_domain(&mut args, &dom);
        let reply = self.call(what, proc::DOMAIN_GET_INFO, args, deadline)?;
        let mut d = Decoder::new(&reply);
        // state (unsigned char), maxMem, memory, nrVirtCpu (unsigned short), cpuTime
        let info = (|| {
            d.u32()?;
            let max_memory_kib = d.u64()?;
            d.u64()?;
            let vcpus = d.u32()?;
            Ok(DomainSize {
                vcpus,
                max_memory_kib,
            })
        })();
        info.map_err(|e| self.bad_reply(what, e))
    }

    fn lookup(
        &mut self,
        name: &str,
        uuid: Option<&str>,
        deadline: Deadline,
    ) -> Result<Option<DomainRef>, LibvirtError> {
        let mut args = Encoder::new();
        args.string(name);
        let by_name = self.call(
            "look up domain",
            proc::DOMAIN_LOOKUP_BY_NAME,
            args,
            deadline,
        );
        let reply = match (by_name, uuid.and_then(parse_uuid)) {
            (Err(e), Some(uuid)) if e.is_no_domain() => {
                let mut args = Encoder::new();
                args.fixed_opaque(&uuid);
                self.call(
                    "look up domain",
                    proc::DOMAIN_LOOKUP_BY_UUID,
                    args,
                    deadline,
                )
            }
            (other, _) => other,
        };
        let reply = match reply {
            Err(e) if e.is_no_domain() => return Ok(None),
            other => other?,
        };
        decode_domain(&mut Decoder::new(&reply))
            .map(Some)
            .map_err(|e| self.bad_reply("look up domain", e))
    }

    fn bad_reply(&mut self, what: &str, e: DecodeError) -> LibvirtError {
        self.broken = true;
        LibvirtError::Call {
            what: what.into(),
            kind: ErrorKind::Other,
            message: format!("malformed reply from {}: {}", self.uri, e.0),
        }
    }

    /// One call: sends it and waits for its reply's payload, skipping anything else the daemon
    /// sends (events, keepalives) until `deadline`.
    fn call(
        &mut self,
        what: &str,
        procedure: u32,
        args: Encoder,
        deadline: Deadline,
    ) -> Result<Vec<u8>, LibvirtError> {
        let timeout = |uri: &str| LibvirtError::Timeout {
            what: what.into(),
            uri: uri.into(),
        };
        if self.broken || deadline.expired() {
            return Err(timeout(&self.uri));
        }
        self.serial = self.serial.wrapping_add(1);
        let serial = self.serial;
        let payload = args.into_bytes();
        let mut message = Encoder::new();
        message
            .u32((HEADER_LEN + payload.len()) as u32)
            .u32(PROGRAM)
            .u32(VERSION)
            .u32(procedure)
            .u32(CALL)
            .u32(serial)
            .u32(STATUS_OK);
        let mut message = message.into_bytes();
        message.extend_from_slice(&payload);
        let result = self.exchange(&message, procedure, serial, deadline);
        match result {
            Ok(Ok(payload)) => Ok(payload),
            Ok(Err(remote)) => Err(LibvirtError::Call {
                what: what.into(),
                kind: ErrorKind::from_code(remote.code),
                message: remote.message,
            }),
            Err(e) => {
                self.broken = true;
                Err(match e.kind() {
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
                        timeout(&self.uri)
                    }
                    _ => LibvirtError::Connect {
                        uri: self.uri.clone(),
                        message: format!("{what}: {e}"),
                    },
                })
            }
        }
    }

    fn exchange(
        &mut self,
        message: &[u8],
        procedure: u32,
        serial: u32,
        deadline: Deadline,
    ) -> std::io::Result<Result<Vec<u8>, RemoteError>> {
        self.send(message, deadline)?;
        loop {
            let Some(incoming) = self.read_message(deadline, deadline)? else {
                return Err(std::io::ErrorKind::TimedOut.into());
            };
            if incoming.program != PROGRAM || incoming.kind != REPLY || incoming.serial != serial {
                self.keep_aside(incoming, deadline)?;
                continue;
            }
            if incoming.procedure != procedure {
                return Err(invalid(format!(
                    "reply to procedure {}",
                    incoming.procedure
                )));
            }
            return match incoming.status {
                STATUS_OK => Ok(Ok(incoming.payload)),
                STATUS_ERROR => Ok(Err(
                    RemoteError::decode(&incoming.payload).map_err(|e| invalid(e.0))?
                )),
                other => Err(invalid(format!("reply status {other}"))),
            };
        }
    }

    fn send(&mut self, message: &[u8], deadline: Deadline) -> std::io::Result<()> {
        self.stream.set_write_timeout(left_of(deadline)?)?;
        self.stream.io().write_all(message)
    }

    /// Reads one whole message. None when nothing arrived before `first_byte_by`; once a
    /// message has begun, the rest must arrive before `whole_by` (a cut message breaks the
    /// stream's framing, so it is an error, never a retry).
    fn read_message(
        &mut self,
        first_byte_by: Deadline,
        whole_by: Deadline,
    ) -> std::io::Result<Option<Message>> {
        let mut length = [0u8; 4];
        let mut filled = 0;
        while filled < length.len() {
            let by = if filled == 0 { first_byte_by } else { whole_by };
            let Ok(left) = left_of(by) else {
                if filled == 0 {
                    return Ok(None);
                }
                return Err(std::io::ErrorKind::TimedOut.into());
            };
            self.stream.set_read_timeout(left)?;
            match self.stream.io().read(&mut length[filled..]) {
                Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => filled += n,
                Err(e) if filled == 0 && is_timeout(&e) => return Ok(None),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let length = u32::from_be_bytes(length) as usize;
        if !(HEADER_LEN..=MESSAGE_MAX).contains(&length) {
            return Err(invalid(format!("message length {length}")));
        }
        let mut body = vec![0u8; length - 4];
        let mut filled = 0;
        while filled < body.len() {
            self.stream.set_read_timeout(left_of(whole_by)?)?;
            match self.stream.io().read(&mut body[filled..])? {
                0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                n => filled += n,
            }
        }
        self.last_heard = Instant::now();
        Message::decode(body).map(Some).map_err(|e| invalid(e.0))
    }

    /// A message that is not the awaited reply: an event is queued for [`Client::next_event`]
    /// (bounded: past the limit the queue is dropped and `events_lost` set, so the caller
    /// resynchronises), a keepalive ping is answered, anything else is skipped.
    fn keep_aside(&mut self, message: Message, deadline: Deadline) -> std::io::Result<()> {
        match (message.program, message.kind) {
            (PROGRAM, MESSAGE) => {
                if self.events.len() >= EVENT_QUEUE_MAX {
                    self.events.clear();
                    self.events_lost = true;
                }
                self.events.push_back(message);
            }
            (KEEPALIVE_PROGRAM, MESSAGE) if message.procedure == KEEPALIVE_PING => {
                self.send(&keepalive(KEEPALIVE_PONG), deadline)?;
            }
            _ => {}
        }
        Ok(())
    }
}

/// One message off the wire: the header and the payload.
struct Message {
    program: u32,
    procedure: u32,
    kind: u32,
    serial: u32,
    status: u32,
    payload: Vec<u8>,
}

impl Message {
    /// `body` is everything after the length word.
    fn decode(body: Vec<u8>) -> Result<Message, DecodeError> {
        let mut d = Decoder::new(&body);
        let (program, _version, procedure, kind, serial, status) =
            (d.u32()?, d.u32()?, d.u32()?, d.u32()?, d.u32()?, d.u32()?);
        Ok(Message {
            program,
            procedure,
            kind,
            serial,
            status,
            payload: body[HEADER_LEN - 4..].to_vec(),
        })
    }
}

/// A keepalive message (PING or PONG): a header without payload.
fn keepalive(procedure: u32) -> Vec<u8> {
    let mut e = Encoder::new();
    e.u32(HEADER_LEN as u32)
        .u32(KEEPALIVE_PROGRAM)
        .u32(KEEPALIVE_VERSION)
        .u32(procedure)
        .u32(MESSAGE)
        .u32(0)
        .u32(STATUS_OK);
    e.into_bytes()
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

impl Drop for Client {
    /// Closes the connection politely (the daemon logs an error for a client that vanished).
    fn drop(&mut self) {
        let deadline = self.deadline.capped(Duration::from_secs(1));
        let _ = self.call("close", proc::CONNECT_CLOSE, Encoder::new(), deadline);
    }
}

impl crate::lifecycle::StatusSource for Client {
    fn find(
        &mut self,
        name: &str,
        uuid: Option<&str>,
        deadline: Deadline,
    ) -> Result<Option<DomainFacts>, LibvirtError> {
        Client::find(self, name, uuid, deadline)
    }
    fn size(&mut self, name: &str, deadline: Deadline) -> Result<DomainSize, LibvirtError> {
        Client::size(self, name, deadline)
    }
}

/// What is left of `deadline`, as a socket timeout (where zero would mean none).
fn left_of(deadline: Deadline) -> std::io::Result<Duration> {
    let left = deadline.remaining();
    if left.is_zero() {
        return Err(std::io::ErrorKind::TimedOut.into());
    }
    Ok(left.max(Duration::from_millis(1)))
}

fn invalid(message: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, message)
}

/// The parts of remote_error the agent uses.
struct RemoteError {
    code: i32,
    message: String,
}

impl RemoteError {
    fn decode(payload: &[u8]) -> Result<RemoteError, DecodeError> {
        let mut d = Decoder::new(payload);
        let code = d.i32()?;
        let _domain = d.i32()?;
        let message = d
            .optional_string()?
            .unwrap_or_else(|| format!("libvirt error {code}"));
        Ok(RemoteError { code, message })
    }
}

fn encode_domain(e: &mut Encoder, dom: &DomainRef) {
    e.string(&dom.name).fixed_opaque(&dom.uuid).i32(dom.id);
}

fn decode_domain(d: &mut Decoder) -> Result<DomainRef, DecodeError> {
    let name = d.string()?;
    let mut uuid = [0u8; 16];
    uuid.copy_from_slice(d.fixed_opaque(16)?);
    let id = d.i32()?;
    Ok(DomainRef { name, uuid, id })
}

fn decode_int_list(d: &mut Decoder) -> Result<Vec<i32>, DecodeError> {
    let n = d.u32()?;
    if n > 20 {
        return Err(DecodeError(format!("{n} authentication types")));
    }
    (0..n).map(|_| d.i32()).collect()
}

/// "4b6e…-…" (with or without dashes) to its 16 bytes.
fn parse_uuid(s: &str) -> Option<[u8; 16]> {
    let hex: Vec<u8> = s.bytes().filter(|b| *b != b'-').collect();
    if hex.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, pair) in hex.chunks(2).enumerate() {
        let text = std::str::from_utf8(pair).ok()?;
        out[i] = u8::from_str_radix(text, 16).ok()?;
    }
    Some(out)
}

fn uuid_string(u: &[u8; 16]) -> String {
    let hex: String = u.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// What libvirt would open with no URI: `LIBVIRT_DEFAULT_URI`, a `uri_default` in the client
/// config (left to the library), else the local system daemon (the agent runs as root).
fn default_uri() -> Result<String, OpenError> {
    if let Ok(uri) = std::env::var("LIBVIRT_DEFAULT_URI") {
        if !uri.is_empty() {
            return Ok(uri);
        }
    }
    let configured = std::fs::read_to_string("/etc/libvirt/libvirt.conf")
        .map(|text| {
            text.lines()
                .any(|l| l.trim_start().starts_with("uri_default"))
        })
        .unwrap_or(false);
    if configured {
        return Err(OpenError::NeedsLibrary(
            "the default URI is configured in /etc/libvirt/libvirt.conf".into(),
        ));
    }
    Ok("qemu:///system".into())
}

fn connect_tcp(addrs: &[SocketAddr], deadline: Deadline) -> Result<TcpStream, String> {
    let mut last = String::from("no address");
    for addr in addrs {
        let left = deadline.remaining();
        if left.is_zero() {
            return Err(format!("{addr}: no answer in time"));
        }
        match TcpStream::connect_timeout(addr, left) {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) => last = format!("{addr}: {e}"),
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;

    #[test]
    fn uuids_round_trip() {
        let text = "4b6e27a0-9c1f-4d2a-8e3b-0123456789ab";
        let bytes = parse_uuid(text).unwrap();
        assert_eq!(uuid_string(&bytes), text);
        assert_eq!(parse_uuid("4b6e27a09c1f4d2a8e3b0123456789ab"), Some(bytes));
        assert_eq!(parse_uuid("nope"), None);
        assert_eq!(parse_uuid("zz6e27a0-9c1f-4d2a-8e3b-0123456789ab"), None);
    }

    /// A daemon that accepts and never answers: the call gives up at the deadline.
    #[test]
    fn a_silent_daemon_costs_at_most_the_deadline() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sock");
        let listener = UnixListener::bind(&path).unwrap();
        let uri = format!("qemu+unix:///system?socket={}", path.display());
        let started = std::time::Instant::now();
        let result = Client::connect(Some(&uri), Deadline::after(Duration::from_millis(300)));
        let took = started.elapsed();
        drop(listener);
        match result {
            Err(OpenError::Libvirt(e)) => assert!(e.is_unreachable(), "{e}"),
            Err(OpenError::NeedsLibrary(w)) => panic!("{w}"),
            Ok(_) => panic!("connected to a silent socket"),
        }
        assert!(took < Duration::from_secs(2), "{took:?}");
    }

    /// A daemon that answers garbage is an error, never a panic or a huge allocation.
    #[test]
    fn garbage_from_the_daemon_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sock");
        let listener = UnixListener::bind(&path).unwrap();
        let server = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut buf = [0u8; 28];
            let _ = conn.read_exact(&mut buf);
            let _ = conn.write_all(&[0xff, 0xff, 0xff, 0xf0, 1, 2, 3]);
        });
        let uri = format!("qemu+unix:///system?socket={}", path.display());
        let result = Client::connect(Some(&uri), Deadline::after(Duration::from_secs(5)));
        assert!(
            matches!(
                result,
                Err(OpenError::Libvirt(LibvirtError::Connect { .. }))
            ),
            "{:?}",
            result.err()
        );
        server.join().unwrap();
    }

    /// What the scripted daemon answers to a procedure: a payload, or a libvirt error.
    enum Answer {
        Ok(Vec<u8>),
        Error(i32, &'static str),
    }

    /// A daemon on a UNIX socket that answers each call as `answer` says, sending a keepalive
    /// (another program) and an event before every reply, as a real daemon may.
    fn scripted_daemon(
        answer: fn(u32) -> Answer,
    ) -> (tempfile::TempDir, String, std::thread::JoinHandle<Vec<u32>>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sock");
        let listener = UnixListener::bind(&path).unwrap();
        let server = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut calls = Vec::new();
            loop {
                let mut length = [0u8; 4];
                if conn.read_exact(&mut length).is_err() {
                    return calls;
                }
                let mut body = vec![0u8; u32::from_be_bytes(length) as usize - 4];
                conn.read_exact(&mut body).unwrap();
                let mut d = Decoder::new(&body);
                let (program, _vers, procedure, _kind, serial) = (
                    d.u32().unwrap(),
                    d.u32().unwrap(),
                    d.u32().unwrap(),
                    d.u32().unwrap(),
                    d.u32().unwrap(),
                );
                if program != PROGRAM {
                    // the client's answer to our keepalive ping
                    assert_eq!((program, procedure), (KEEPALIVE_PROGRAM, KEEPALIVE_PONG));
                    continue;
                }
                calls.push(procedure);
                let send = |conn: &mut UnixStream, header: [u32; 6], payload: &[u8]| {
                    let mut e = Encoder::new();
                    e.u32((HEADER_LEN + payload.len()) as u32);
                    for word in header {
                        e.u32(word);
                    }
                    let mut bytes = e.into_bytes();
                    bytes.extend_from_slice(payload);
                    conn.write_all(&bytes).unwrap();
                };
                send(&mut conn, [0x6b65_6570, 1, 1, 2, 0, 0], &[]);
                send(&mut conn, [PROGRAM, VERSION, 999, 2, 0, 0], &[0, 0, 0, 0]);
                match answer(procedure) {
                    Answer::Ok(payload) => send(
                        &mut conn,
                        [PROGRAM, VERSION, procedure, REPLY, serial, STATUS_OK],
                        &payload,
                    ),
                    Answer::Error(code, message) => {
                        let mut e = Encoder::new();
                        e.i32(code).i32(10).optional_string(Some(message)).i32(2);
                        let payload = e.into_bytes();
                        send(
                            &mut conn,
                            [PROGRAM, VERSION, procedure, REPLY, serial, STATUS_ERROR],
                            &payload,
                        )
                    }
                }
            }
        });
        let uri = format!("qemu+unix:///system?socket={}", path.display());
        (dir, uri, server)
    }

    fn ints(values: &[i32]) -> Vec<u8> {
        let mut e = Encoder::new();
        for v in values {
            e.i32(*v);
        }
        e.into_bytes()
    }

    #[test]
    fn polkit_open_lookup_state_and_close_against_a_scripted_daemon() {
        let (_dir, uri, server) = scripted_daemon(|procedure| match procedure {
            proc::AUTH_LIST => Answer::Ok(ints(&[1, AUTH_POLKIT])),
            proc::AUTH_POLKIT => Answer::Ok(ints(&[1])),
            proc::CONNECT_OPEN | proc::CONNECT_CLOSE => Answer::Ok(Vec::new()),
            proc::DOMAIN_LOOKUP_BY_NAME => {
                let mut e = Encoder::new();
                e.string("guest").fixed_opaque(&[7; 16]).i32(3);
                Answer::Ok(e.into_bytes())
            }
            // paused on an I/O error
            proc::DOMAIN_GET_STATE => Answer::Ok(ints(&[3, 5])),
            _ => Answer::Error(1, "unexpected call"),
        });
        let deadline = Deadline::after(Duration::from_secs(5));
        let mut client = Client::connect(Some(&uri), deadline).unwrap();
        let facts = client.find("guest", None, deadline).unwrap().unwrap();
        assert_eq!(facts.name, "guest");
        assert_eq!(facts.uuid, "07070707-0707-0707-0707-070707070707");
        assert_eq!(
            facts.status,
            DomainStatus::Paused(crate::domain_state::PauseReason::IoError)
        );
        drop(client);
        assert_eq!(
            server.join().unwrap(),
            vec![
                proc::AUTH_LIST,
                proc::AUTH_POLKIT,
                proc::CONNECT_OPEN,
                proc::DOMAIN_LOOKUP_BY_NAME,
                proc::DOMAIN_GET_STATE,
                proc::CONNECT_CLOSE
            ]
        );
    }

    #[test]
    fn unknown_domains_fall_back_to_the_uuid_then_are_none() {
        let (_dir, uri, server) = scripted_daemon(|procedure| match procedure {
            proc::AUTH_LIST => Answer::Ok(ints(&[1, AUTH_NONE])),
            proc::CONNECT_OPEN | proc::CONNECT_CLOSE => Answer::Ok(Vec::new()),
            proc::DOMAIN_LOOKUP_BY_NAME | proc::DOMAIN_LOOKUP_BY_UUID => {
                Answer::Error(42, "Domain not found")
            }
            _ => Answer::Error(1, "unexpected call"),
        });
        let deadline = Deadline::after(Duration::from_secs(5));
        let mut client = Client::connect(Some(&uri), deadline).unwrap();
        let uuid = "4b6e27a0-9c1f-4d2a-8e3b-0123456789ab";
        assert_eq!(client.find("gone", Some(uuid), deadline), Ok(None));
        let e = client.size("gone", deadline).unwrap_err();
        assert!(e.is_no_domain(), "{e}");
        drop(client);
        let calls = server.join().unwrap();
        assert_eq!(
            &calls[2..4],
            &[proc::DOMAIN_LOOKUP_BY_NAME, proc::DOMAIN_LOOKUP_BY_UUID]
        );
    }

    #[test]
    fn sasl_only_daemons_and_refused_opens() {
        let (_dir, uri, _server) = scripted_daemon(|procedure| match procedure {
            proc::AUTH_LIST => Answer::Ok(ints(&[1, 1])),
            _ => Answer::Error(1, "unexpected call"),
        });
        let r = Client::connect(Some(&uri), Deadline::after(Duration::from_secs(5)));
        assert!(
            matches!(r, Err(OpenError::NeedsLibrary(ref w)) if w.contains("SASL")),
            "{:?}",
            r.err()
        );

        let (_dir, uri, _server) = scripted_daemon(|procedure| match procedure {
            proc::AUTH_LIST => Answer::Ok(ints(&[0])),
            proc::CONNECT_OPEN => Answer::Error(38, "no connection driver available"),
            _ => Answer::Error(1, "unexpected call"),
        });
        match Client::connect(Some(&uri), Deadline::after(Duration::from_secs(5))) {
            Err(OpenError::Libvirt(e)) => {
                assert!(e.is_unreachable(), "{e}");
                assert!(e.to_string().contains("no connection driver"), "{e}");
            }
            other => panic!("{:?}", other.err()),
        }
    }

    proptest::proptest! {
        /// Whatever bytes a daemon sends as a reply payload, decoding is an error or a value,
        /// never a panic or a huge allocation.
        #[test]
        fn reply_payloads_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..96)) {
            let _ = RemoteError::decode(&bytes);
            let _ = decode_domain(&mut Decoder::new(&bytes));
            let _ = decode_int_list(&mut Decoder::new(&bytes));
            let mut d = Decoder::new(&bytes);
            let _ = (d.optional_string(), d.u64(), d.fixed_opaque(16), d.string());
        }
    }

    #[test]
    fn a_missing_socket_is_unreachable() {
        let r = Client::connect(
            Some("qemu+unix:///system?socket=/nonexistent/libvirt-sock"),
            Deadline::after(Duration::from_secs(1)),
        );
        match r {
            Err(OpenError::Libvirt(e)) => assert!(e.is_unreachable(), "{e}"),
            other => panic!("{:?}", other.err()),
        }
    }
}
