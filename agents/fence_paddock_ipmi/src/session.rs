//! An authenticated IPMI session over LAN: establishment (RMCP+ for lanplus, v1.5 otherwise),
//! Set Session Privilege Level, requests with sequence numbers and retransmission inside the
//! deadline, and Close Session at the end (explicitly, or on drop as a safety net).

use std::fmt;
use std::time::Duration;

use rand::RngCore;
use stonith::Deadline;

use crate::crypto::{self, CipherSuite};
use crate::handshake;
use crate::lan15::{self, AuthType};
use crate::messages::{self, CompletionCode, Request, Response, NETFN_APP};
use crate::rmcpplus::{self, SessionKeys};
use crate::transport::{Accept, Transport};

const CMD_SET_SESSION_PRIVILEGE: u8 = 0x3b;
const CMD_CLOSE_SESSION: u8 = 0x3c;

/// IPMI privilege levels (spec table 6-1 / 22-29).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Privilege {
    Callback = 1,
    User = 2,
    Operator = 3,
    Administrator = 4,
}

impl Privilege {
    pub fn parse(name: &str) -> Option<Privilege> {
        match name.to_ascii_lowercase().as_str() {
            "callback" => Some(Privilege::Callback),
            "user" => Some(Privilege::User),
            "operator" => Some(Privilege::Operator),
            "administrator" | "admin" => Some(Privilege::Administrator),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Privilege::Callback => "callback",
            Privilege::User => "user",
            Privilege::Operator => "operator",
            Privilege::Administrator => "administrator",
        }
    }
}

/// Which session protocol, with its knobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// IPMI v1.5 session; `None` = strongest auth type the BMC offers.
    Lan15 { auth: Option<AuthType> },
    /// IPMI v2.0 RMCP+; `None` = suite 3, falling back to 17 if the BMC rejects 3.
    Lanplus { cipher: Option<u8> },
}

/// Everything needed to open a session. `password` and `kg` are secrets: this type's Debug
/// does not show them.
#[derive(Clone)]
pub struct SessionConfig {
    pub host: String,
    pub port: u16,
    pub username: String,
    pub password: Vec<u8>,
    pub kg: Option<[u8; 20]>,
    pub privilege: Privilege,
    pub protocol: Protocol,
    /// Upper bound of the retransmission interval.
    pub max_rto: Duration,
}

impl fmt::Debug for SessionConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("privilege", &self.privilege)
            .field("protocol", &self.protocol)
            .finish_non_exhaustive()
    }
}

impl SessionConfig {
    pub fn new(host: &str, port: u16, username: &str, password: &[u8]) -> SessionConfig {
        SessionConfig {
            host: host.to_string(),
            port,
            username: username.to_string(),
            password: password.to_vec(),
            kg: None,
            privilege: Privilege::Administrator,
            protocol: Protocol::Lanplus { cipher: None },
            max_rto: Duration::from_secs(2),
        }
    }
}

/// Why a session operation failed; every message is one line without secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionError {
    /// The BMC did not answer in time.
    Timeout(String),
    /// The BMC refused our identity (user, password, Kg, privilege).
    Auth(String),
    /// The BMC answered something that makes no sense.
    Protocol(String),
    /// A command completed with a non-zero completion code.
    Completion { command: &'static str, code: u8 },
    /// Local trouble (socket, name resolution).
    Io(String),
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionError::Timeout(m)
            | SessionError::Auth(m)
            | SessionError::Protocol(m)
            | SessionError::Io(m) => f.write_str(m),
            SessionError::Completion { command, code } => {
                write!(
                    f,
                    "{command} failed: completion code {}",
                    CompletionCode(*code)
                )
            }
        }
    }
}

pub(crate) enum State {
    /// `inbound_seq`: the last session sequence number accepted from the BMC (it counts up from
    /// the initial outbound sequence number we gave it); an authenticated answer must be newer.
    Lan15 {
        auth: AuthType,
        session_id: u32,
        seq: u32,
        password: [u8; 16],
        inbound_seq: u32,
    },
    /// `inbound_seq`: the highest session sequence number accepted from the BMC; an
    /// authenticated packet must carry a higher one (a replayed answer is ignored).
    Lanplus {
        keys: SessionKeys,
        console_sid: u32,
        bmc_sid: u32,
        seq: u32,
        inbound_seq: u32,
    },
}

/// An open session.
pub struct Session {
    transport: Transport,
    state: State,
    rq_seq: u8,
    closed: bool,
    /// The cipher suite in use (lanplus) — for logs and tests.
    pub cipher_suite: Option<u8>,
    /// The v1.5 auth type in use (lanplus=0).
    pub auth_type: Option<AuthType>,
}

impl Session {
    /// Establish a session and raise it to the configured privilege level.
    pub fn open(cfg: &SessionConfig, deadline: Deadline) -> Result<Session, SessionError> {
        let peer = stonith::resolve(&cfg.host, cfg.port, deadline)
            .map_err(|e| SessionError::Io(format!("BMC address: {e}")))?[0];
        let mut transport = Transport::connect(peer, cfg.max_rto)?;
        let (state, cipher_suite, auth_type) = match cfg.protocol {
            Protocol::Lanplus { cipher: Some(id) } => {
                let suite = CipherSuite::by_id(id).ok_or_else(|| {
                    SessionError::Auth(format!("cipher suite {id} is not supported by this agent"))
                })?;
                let state = handshake::open_lanplus_retrying(&mut transport, cfg, suite, deadline)
                    .map_err(handshake::OpenError::into_inner)?;
                (state, Some(id), None)
            }
            Protocol::Lanplus { cipher: None } => {
                let preferred =
                    CipherSuite::by_id(3).ok_or_else(|| SessionError::Io("suite table".into()))?;
                match handshake::open_lanplus_retrying(&mut transport, cfg, preferred, deadline) {
                    Ok(state) => (state, Some(3), None),
                    Err(handshake::OpenError::SuiteRejected(_)) => {
                        tracing::debug!(
                            "the BMC rejected cipher suite 3, trying 17 (HMAC-SHA256, AES)"
                        );
                        let fallback = CipherSuite::by_id(17)
                            .ok_or_else(|| SessionError::Io("suite table".into()))?;
                        let state = handshake::open_lanplus_retrying(
                            &mut transport,
                            cfg,
                            fallback,
                            deadline,
                        )
                        .map_err(handshake::OpenError::into_inner)?;
                        (state, Some(17), None)
                    }
                    Err(e) => return Err(e.into_inner()),
                }
            }
            Protocol::Lan15 { auth } => {
                let (state, auth) = handshake::open_lan15(&mut transport, cfg, auth, deadline)?;
                (state, None, Some(auth))
            }
        };
        let mut session = Session {
            transport,
            state,
            rq_seq: 0,
            closed: false,
            cipher_suite,
            auth_type,
        };
        session.set_privilege(cfg.privilege, deadline)?;
        Ok(session)
    }

    fn set_privilege(
        &mut self,
        privilege: Privilege,
        deadline: Deadline,
    ) -> Result<(), SessionError> {
        let rsp = self.request(
            &Request::new(NETFN_APP, CMD_SET_SESSION_PRIVILEGE, vec![privilege as u8]),
            deadline,
        )?;
        match rsp.completion {
            0 => Ok(()),
            0x80..=0x81 => Err(SessionError::Auth(format!(
                "BMC refused privilege level {} for this user/channel (Set Session Privilege Level: 0x{:02x})",
                privilege.name(),
                rsp.completion
            ))),
            code => Err(SessionError::Completion { command: "Set Session Privilege Level", code }),
        }
    }

    /// Send one request in the session and return the BMC's response (any completion code).
    pub fn request(&mut self, req: &Request, deadline: Deadline) -> Result<Response, SessionError> {
        self.rq_seq = (self.rq_seq + 1) & 0x3f;
        let outgoing = Outgoing {
            request: req,
            rq_seq: self.rq_seq,
            message: messages::encode_request(req, self.rq_seq),
            what: format!("command netfn 0x{:02x} cmd 0x{:02x}", req.netfn, req.cmd),
        };
        match &mut self.state {
            State::Lanplus {
                keys,
                console_sid,
                bmc_sid,
                seq,
                inbound_seq,
            } => {
                let session = LanplusSession {
                    keys,
                    console_sid: *console_sid,
                    bmc_sid: *bmc_sid,
                };
                session.request(&mut self.transport, &outgoing, seq, inbound_seq, deadline)
            }
            State::Lan15 {
                auth,
                session_id,
                seq,
                password,
                inbound_seq,
            } => {
                let session = Lan15Session {
                    auth: *auth,
                    session_id: *session_id,
                    password,
                };
                session.request(&mut self.transport, &outgoing, seq, inbound_seq, deadline)
            }
        }
    }

    /// Send a request and return its data, turning a non-zero completion code into an error.
    pub fn command(
        &mut self,
        name: &'static str,
        req: &Request,
        deadline: Deadline,
    ) -> Result<Vec<u8>, SessionError> {
        let rsp = self.request(req, deadline)?;
        if rsp.completion != 0 {
            return Err(SessionError::Completion {
                command: name,
                code: rsp.completion,
            });
        }
        Ok(rsp.data)
    }

    /// Close the session on the BMC (it has few slots). Best effort, bounded by `deadline`.
    pub fn close(&mut self, deadline: Deadline) {
        if self.closed {
            return;
        }
        self.closed = true;
        let sid = match self.state {
            State::Lan15 { session_id, .. } => session_id,
            State::Lanplus { bmc_sid, .. } => bmc_sid,
        };
        let req = Request::new(NETFN_APP, CMD_CLOSE_SESSION, sid.to_le_bytes().to_vec());
        match self.request(&req, deadline) {
            Ok(r) if r.completion == 0 => tracing::debug!("session closed"),
            Ok(r) => tracing::debug!(
                "Close Session: completion code {}",
                CompletionCode(r.completion)
            ),
            Err(e) => tracing::debug!("Close Session: {e}"),
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.close(Deadline::after(Duration::from_millis(500)));
    }
}

/// One request on its way: the IPMI message and how to recognise its response.
struct Outgoing<'r> {
    request: &'r Request,
    rq_seq: u8,
    message: Vec<u8>,
    what: String,
}

impl Outgoing<'_> {
    /// The response to this request (sequence number, command and response netfn match).
    fn answered_by(&self, response: &Response) -> bool {
        response.rq_seq == self.rq_seq
            && response.cmd == self.request.cmd
            && response.netfn == self.request.netfn + 1
    }
}

/// An RMCP+ session's keys and ids, for one request.
struct LanplusSession<'s> {
    keys: &'s rmcpplus::SessionKeys,
    console_sid: u32,
    bmc_sid: u32,
}

impl LanplusSession<'_> {
    /// Each (re)transmission gets the next session sequence number and a fresh IV; with
    /// integrity protection, a response not newer than the last accepted one is a replay.
    fn request(
        &self,
        transport: &mut Transport,
        outgoing: &Outgoing,
        seq: &mut u32,
        inbound_seq: &mut u32,
        deadline: Deadline,
    ) -> Result<Response, SessionError> {
        let replay_checked = self.keys.suite.integ != crypto::IntegAlg::None;
        let last_inbound = *inbound_seq;
        let (response, response_seq) = transport.exchange(
            &outgoing.what,
            deadline,
            || {
                *seq = seq.wrapping_add(1).max(1);
                let mut iv = [0u8; 16];
                rand::thread_rng().fill_bytes(&mut iv);
                rmcpplus::encode_session(self.keys, self.bmc_sid, *seq, &outgoing.message, iv)
            },
            |datagram| {
                let Ok(packet) = rmcpplus::decode(datagram, Some(self.keys)) else {
                    return Accept::Ignore;
                };
                if packet.payload_type != rmcpplus::PAYLOAD_IPMI
                    || packet.session_id != self.console_sid
                    || (replay_checked && packet.seq <= last_inbound)
                {
                    return Accept::Ignore;
                }
                match messages::decode_response(&packet.payload) {
                    Ok(r) if outgoing.answered_by(&r) => Accept::Done((r, packet.seq)),
                    _ => Accept::Ignore,
                }
            },
        )?;
        if replay_checked {
            *inbound_seq = response_seq;
        }
        Ok(response)
    }
}

/// An IPMI v1.5 session's auth type, id and password, for one request.
struct Lan15Session<'s> {
    auth: AuthType,
    session_id: u32,
    password: &'s [u8; 16],
}

impl Lan15Session<'_> {
    /// Each (re)transmission gets the next session sequence number; an authenticated response
    /// must be newer than the last accepted one, modulo 2^32 (it starts at a random value).
    /// (A BMC with per-message authentication off may answer without an AuthCode; IPMI 1.5
    /// cannot protect those, so they are not checked.)
    fn request(
        &self,
        transport: &mut Transport,
        outgoing: &Outgoing,
        seq: &mut u32,
        inbound_seq: &mut u32,
        deadline: Deadline,
    ) -> Result<Response, SessionError> {
        let replay_checked = self.auth != AuthType::None;
        let last_inbound = *inbound_seq;
        let (response, response_seq) = transport.exchange(
            &outgoing.what,
            deadline,
            || {
                let packet = lan15::encode(
                    self.auth,
                    *seq,
                    self.session_id,
                    self.password,
                    &outgoing.message,
                );
                *seq = seq.wrapping_add(1).max(1);
                packet
            },
            |datagram| {
                let Some(packet) = lan15::decode(datagram, Some(self.password)) else {
                    return Accept::Ignore;
                };
                let authenticated = packet.auth != AuthType::None;
                if packet.session_id != self.session_id
                    || (replay_checked
                        && authenticated
                        && (packet.seq.wrapping_sub(last_inbound) as i32) <= 0)
                {
                    return Accept::Ignore;
                }
                match messages::decode_response(&packet.message) {
                    Ok(r) if outgoing.answered_by(&r) => {
                        Accept::Done((r, authenticated.then_some(packet.seq)))
                    }
                    _ => Accept::Ignore,
                }
            },
        )?;
        if let Some(n) = response_seq {
            *inbound_seq = n;
        }
        Ok(response)
    }
}
