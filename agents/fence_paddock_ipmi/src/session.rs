//! An authenticated IPMI session over LAN: establishment (RMCP+ for lanplus, v1.5 otherwise),
//! Set Session Privilege Level, requests with sequence numbers and retransmission inside the
//! deadline, and Close Session at the end (explicitly, or on drop as a safety net).

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use rand::RngCore;
use stonith::Deadline;

use crate::crypto::{self, CipherSuite, RakpParams};
use crate::lan15::{self, AuthType};
use crate::messages::{self, CompletionCode, Request, Response, NETFN_APP};
use crate::rmcpplus::{self, SessionKeys};
use crate::transport::{Accept, Transport};

const CMD_SET_SESSION_PRIVILEGE: u8 = 0x3b;
const CMD_CLOSE_SESSION: u8 = 0x3c;
/// RMCP+ status "no cipher suite match with proposed security algorithms" and its relatives:
/// the BMC does not speak the suite we proposed.
const SUITE_REJECTED: &[u8] = &[0x04, 0x05, 0x06, 0x07, 0x10, 0x11];
/// How long a v1.5 Activate Session may stay unanswered before we conclude the password is wrong.
const ACTIVATE_WAIT: Duration = Duration::from_secs(2);
/// Attempts at the whole RMCP+ handshake when the BMC lost track of it (RAKP 4 with an error
/// status after retransmissions crossed).
const HANDSHAKE_ATTEMPTS: u32 = 3;

/// How an RMCP+ handshake attempt failed, for `open` to decide what to do next.
enum OpenError {
    Failed(SessionError),
    /// The BMC does not speak the proposed cipher suite.
    SuiteRejected(SessionError),
    /// The BMC's handshake state and ours diverged; a new handshake may succeed.
    Restart(SessionError),
}

impl From<SessionError> for OpenError {
    fn from(e: SessionError) -> Self {
        OpenError::Failed(e)
    }
}

impl OpenError {
    fn into_inner(self) -> SessionError {
        match self {
            OpenError::Failed(e) | OpenError::SuiteRejected(e) | OpenError::Restart(e) => e,
        }
    }
}

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
    /// Where debug lines go (never with a secret in them).
    pub log: fn(&str),
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

fn no_log(_: &str) {}

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
            log: no_log,
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
            SessionError::Timeout(m) | SessionError::Auth(m) | SessionError::Protocol(m) | SessionError::Io(m) => {
                f.write_str(m)
            }
            SessionError::Completion { command, code } => {
                write!(f, "{command} failed: completion code {}", CompletionCode(*code))
            }
        }
    }
}

enum State {
    /// `inbound_seq`: the last session sequence number accepted from the BMC (it counts up from
    /// the initial outbound sequence number we gave it); an authenticated answer must be newer.
    Lan15 { auth: AuthType, session_id: u32, seq: u32, password: [u8; 16], inbound_seq: u32 },
    /// `inbound_seq`: the highest session sequence number accepted from the BMC; an
    /// authenticated packet must carry a higher one (a replayed answer is ignored).
    Lanplus { keys: SessionKeys, console_sid: u32, bmc_sid: u32, seq: u32, inbound_seq: u32 },
}

/// An open session.
pub struct Session {
    transport: Transport,
    state: State,
    rq_seq: u8,
    closed: bool,
    log: fn(&str),
    /// The cipher suite in use (lanplus) — for logs and tests.
    pub cipher_suite: Option<u8>,
    /// The v1.5 auth type in use (lanplus=0).
    pub auth_type: Option<AuthType>,
}

fn resolve(host: &str, port: u16) -> Result<SocketAddr, SessionError> {
    let mut addrs = (host, port)
        .to_socket_addrs()
        .map_err(|e| SessionError::Io(format!("cannot resolve BMC address '{host}': {e}")))?;
    addrs.next().ok_or_else(|| SessionError::Io(format!("BMC address '{host}' resolves to nothing")))
}

fn random_nonzero_u32() -> u32 {
    loop {
        let v = rand::thread_rng().next_u32();
        if v != 0 {
            return v;
        }
    }
}

impl Session {
    /// Establish a session and raise it to the configured privilege level.
    pub fn open(cfg: &SessionConfig, deadline: Deadline) -> Result<Session, SessionError> {
        let peer = resolve(&cfg.host, cfg.port)?;
        let mut transport = Transport::connect(peer, cfg.max_rto, cfg.log)?;
        let (state, cipher_suite, auth_type) = match cfg.protocol {
            Protocol::Lanplus { cipher: Some(id) } => {
                let suite = CipherSuite::by_id(id)
                    .ok_or_else(|| SessionError::Auth(format!("cipher suite {id} is not supported by this agent")))?;
                let state = Self::open_lanplus_retrying(&mut transport, cfg, suite, deadline).map_err(OpenError::into_inner)?;
                (state, Some(id), None)
            }
            Protocol::Lanplus { cipher: None } => {
                let preferred = CipherSuite::by_id(3).ok_or_else(|| SessionError::Io("suite table".into()))?;
                match Self::open_lanplus_retrying(&mut transport, cfg, preferred, deadline) {
                    Ok(state) => (state, Some(3), None),
                    Err(OpenError::SuiteRejected(_)) => {
                        (cfg.log)("the BMC rejected cipher suite 3, trying 17 (HMAC-SHA256, AES)");
                        let fallback = CipherSuite::by_id(17).ok_or_else(|| SessionError::Io("suite table".into()))?;
                        let state = Self::open_lanplus_retrying(&mut transport, cfg, fallback, deadline)
                            .map_err(OpenError::into_inner)?;
                        (state, Some(17), None)
                    }
                    Err(e) => return Err(e.into_inner()),
                }
            }
            Protocol::Lan15 { auth } => {
                let (state, auth) = Self::open_lan15(&mut transport, cfg, auth, deadline)?;
                (state, None, Some(auth))
            }
        };
        let mut session = Session { transport, state, rq_seq: 0, closed: false, log: cfg.log, cipher_suite, auth_type };
        session.set_privilege(cfg.privilege, deadline)?;
        Ok(session)
    }

    fn open_lanplus_retrying(
        transport: &mut Transport,
        cfg: &SessionConfig,
        suite: CipherSuite,
        deadline: Deadline,
    ) -> Result<State, OpenError> {
        let mut attempt = 1;
        loop {
            match Self::open_lanplus(transport, cfg, suite, deadline) {
                Err(OpenError::Restart(e)) if attempt < HANDSHAKE_ATTEMPTS && !deadline.expired() => {
                    (cfg.log)(&format!("{e}; starting the RMCP+ handshake again"));
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    fn open_lanplus(
        transport: &mut Transport,
        cfg: &SessionConfig,
        suite: CipherSuite,
        deadline: Deadline,
    ) -> Result<State, OpenError> {
        let log = cfg.log;
        let suite_rejected = std::cell::Cell::new(false);
        let restart = std::cell::Cell::new(false);
        let console_sid = random_nonzero_u32();
        let tag = (console_sid & 0x3f) as u8;
        log(&format!("RMCP+ open session, cipher suite {}, console session 0x{console_sid:08x}", suite.id));

        let request = rmcpplus::open_session_request(tag, cfg.privilege as u8, console_sid, &suite);
        let open = transport.exchange(
            "RMCP+ Open Session Request",
            deadline,
            || rmcpplus::encode_presession(rmcpplus::PAYLOAD_OPEN_SESSION_REQUEST, &request),
            |dg| {
                let Ok(p) = rmcpplus::decode(dg, None) else { return Accept::Ignore };
                if p.payload_type != rmcpplus::PAYLOAD_OPEN_SESSION_RESPONSE {
                    return Accept::Ignore;
                }
                match rmcpplus::parse_open_session_response(&p.payload) {
                    Some(r) if r.tag == tag && (r.console_sid == console_sid || (r.status != 0 && r.console_sid == 0)) => {
                        if r.status == 0 {
                            Accept::Done(r)
                        } else {
                            suite_rejected.set(SUITE_REJECTED.contains(&r.status));
                            Accept::Fail(SessionError::Auth(format!(
                                "BMC refused the RMCP+ session with cipher suite {}: {}",
                                suite.id,
                                rmcpplus::status_code_name(r.status)
                            )))
                        }
                    }
                    _ => Accept::Ignore,
                }
            },
        );
        let open = match open {
            Ok(o) => o,
            Err(e) if suite_rejected.get() => return Err(OpenError::SuiteRejected(e)),
            Err(e) => return Err(e.into()),
        };
        if (open.auth, open.integ, open.conf) != (suite.auth as u8, suite.integ as u8, suite.conf as u8) {
            return Err(SessionError::Protocol(format!(
                "BMC answered cipher suite {} with other algorithms (auth {}, integrity {}, confidentiality {})",
                suite.id, open.auth, open.integ, open.conf
            ))
            .into());
        }
        let bmc_sid = open.bmc_sid;

        let mut console_random = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut console_random);
        // Role: requested privilege, name-only lookup (bit 4), as ipmitool does.
        let role = cfg.privilege as u8 | 0x10;
        let username = cfg.username.as_bytes();
        if username.len() > 16 {
            return Err(SessionError::Auth("user name longer than 16 bytes".into()).into());
        }
        let kuid = crypto::key20(&cfg.password);
        let rakp1 = rmcpplus::rakp1(tag, bmc_sid, &console_random, role, username);
        let mut params = RakpParams {
            console_sid,
            bmc_sid,
            console_random,
            bmc_random: [0; 16],
            bmc_guid: [0; 16],
            role,
            username,
        };
        let rakp3_code = transport.exchange(
            "RAKP Message 1",
            deadline,
            || rmcpplus::encode_presession(rmcpplus::PAYLOAD_RAKP1, &rakp1),
            |dg| {
                let Ok(p) = rmcpplus::decode(dg, None) else { return Accept::Ignore };
                if p.payload_type != rmcpplus::PAYLOAD_RAKP2 {
                    return Accept::Ignore;
                }
                let Some(r2) = rmcpplus::parse_rakp2(&p.payload) else { return Accept::Ignore };
                if r2.tag != tag || !(r2.console_sid == console_sid || (r2.status != 0 && r2.console_sid == 0)) {
                    return Accept::Ignore;
                }
                if r2.status != 0 {
                    return Accept::Fail(SessionError::Auth(format!(
                        "BMC refused user '{}': {}",
                        cfg.username,
                        rmcpplus::status_code_name(r2.status)
                    )));
                }
                params.bmc_random = r2.bmc_random;
                params.bmc_guid = r2.bmc_guid;
                match rmcpplus::check_rakp2(suite.auth, &kuid, &params, &r2) {
                    Ok(code) => Accept::Done(code),
                    Err(_) => Accept::Fail(SessionError::Auth(format!(
                        "authentication failed for user '{}': wrong password (RAKP 2 code mismatch)",
                        cfg.username
                    ))),
                }
            },
        );
        let rakp3_code = match rakp3_code {
            Ok(c) => c,
            Err(e) => {
                if matches!(e, SessionError::Auth(_)) {
                    // Tell the BMC to drop the half-open session now rather than at its timeout.
                    let abort = rmcpplus::rakp3(tag, 0x0f, bmc_sid, &[]);
                    transport.send_only(&rmcpplus::encode_presession(rmcpplus::PAYLOAD_RAKP3, &abort));
                }
                return Err(e.into());
            }
        };

        let kg: Vec<u8> = match cfg.kg {
            Some(k) if k.iter().any(|&b| b != 0) => k.to_vec(),
            _ => kuid.to_vec(),
        };
        // If the BMC answered a retransmitted RAKP 1 too, it now holds a new random number and
        // a RAKP 2 for it may arrive while we wait for RAKP 4: follow it (it must verify) and
        // resend RAKP 3 with the code for the BMC's current state.
        let current = std::cell::RefCell::new((params.clone(), rmcpplus::rakp3(tag, 0, bmc_sid, &rakp3_code)));
        let keys = transport.exchange(
            "RAKP Message 3",
            deadline,
            || rmcpplus::encode_presession(rmcpplus::PAYLOAD_RAKP3, &current.borrow().1),
            |dg| {
                // ipmi_sim answers a repeated RAKP 3 (after its first RAKP 4 was lost) with a
                // RAKP 4 protected by the new session's keys: try those when plain decoding fails.
                let p = match rmcpplus::decode(dg, None) {
                    Ok(p) => p,
                    Err(_) => {
                        let (keys, _) = rmcpplus::derive_session_keys(suite, &kg, &current.borrow().0);
                        match rmcpplus::decode(dg, Some(&keys)) {
                            Ok(p) if p.payload_type == rmcpplus::PAYLOAD_RAKP4 => p,
                            _ => return Accept::Ignore,
                        }
                    }
                };
                if p.payload_type == rmcpplus::PAYLOAD_RAKP2 {
                    let Some(r2) = rmcpplus::parse_rakp2(&p.payload) else { return Accept::Ignore };
                    let mut cur = current.borrow_mut();
                    if r2.tag != tag || r2.console_sid != console_sid || r2.status != 0 || r2.bmc_random == cur.0.bmc_random {
                        return Accept::Ignore;
                    }
                    let mut newer = cur.0.clone();
                    newer.bmc_random = r2.bmc_random;
                    newer.bmc_guid = r2.bmc_guid;
                    return match rmcpplus::check_rakp2(suite.auth, &kuid, &newer, &r2) {
                        Ok(code) => {
                            log("the BMC answered a repeated RAKP 1; following its newer RAKP 2");
                            *cur = (newer, rmcpplus::rakp3(tag, 0, bmc_sid, &code));
                            Accept::Resend
                        }
                        Err(_) => Accept::Ignore,
                    };
                }
                if p.payload_type != rmcpplus::PAYLOAD_RAKP4 {
                    return Accept::Ignore;
                }
                let Some(r4) = rmcpplus::parse_rakp4(&p.payload) else { return Accept::Ignore };
                if r4.tag != tag || !(r4.console_sid == console_sid || (r4.status != 0 && r4.console_sid == 0)) {
                    return Accept::Ignore;
                }
                if r4.status != 0 {
                    restart.set(true);
                    return Accept::Fail(SessionError::Auth(format!(
                        "BMC refused the RAKP exchange for user '{}': {}",
                        cfg.username,
                        rmcpplus::status_code_name(r4.status)
                    )));
                }
                match rmcpplus::finish_rakp4(suite, &kg, &current.borrow().0, &r4) {
                    Ok(keys) => Accept::Done(keys),
                    Err(_) => Accept::Fail(SessionError::Auth(
                        "RMCP+ session keys do not match the BMC's (RAKP 4 check failed): wrong or missing Kg key (hexadecimal_kg)"
                            .into(),
                    )),
                }
            },
        );
        let keys = match keys {
            Ok(k) => k,
            Err(e) if restart.get() => return Err(OpenError::Restart(e)),
            Err(e) => return Err(e.into()),
        };
        log(&format!("RMCP+ session established, BMC session 0x{bmc_sid:08x}"));
        Ok(State::Lanplus { keys, console_sid, bmc_sid, seq: 0, inbound_seq: 0 })
    }

    /// A message outside any session (v1.5 framing, auth type none) and its response.
    fn presession_v15(
        transport: &mut Transport,
        what: &'static str,
        req: &Request,
        deadline: Deadline,
    ) -> Result<Response, SessionError> {
        let msg = messages::encode_request(req, 0);
        let none_pw = [0u8; 16];
        transport.exchange(
            what,
            deadline,
            || lan15::encode(AuthType::None, 0, 0, &none_pw, &msg),
            |dg| match lan15::decode(dg, None).and_then(|p| messages::decode_response(&p.message).ok()) {
                Some(r) if r.cmd == req.cmd && r.netfn == req.netfn + 1 => Accept::Done(r),
                _ => Accept::Ignore,
            },
        )
    }

    fn open_lan15(
        transport: &mut Transport,
        cfg: &SessionConfig,
        wanted: Option<AuthType>,
        deadline: Deadline,
    ) -> Result<(State, AuthType), SessionError> {
        let log = cfg.log;
        let caps_req = Request::new(NETFN_APP, lan15::CMD_GET_CHANNEL_AUTH_CAPS, lan15::channel_auth_caps_request(cfg.privilege as u8, false));
        let caps = Self::presession_v15(transport, "Get Channel Authentication Capabilities", &caps_req, deadline)?;
        if caps.completion != 0 {
            return Err(SessionError::Completion { command: "Get Channel Authentication Capabilities", code: caps.completion });
        }
        let caps = lan15::parse_channel_auth_caps(&caps.data)
            .ok_or_else(|| SessionError::Protocol("short Get Channel Authentication Capabilities response".into()))?;
        let auth = lan15::choose_auth(&caps, wanted).map_err(SessionError::Auth)?;
        log(&format!("IPMI 1.5 session, auth type {}", auth.name()));

        if cfg.username.len() > 16 {
            return Err(SessionError::Auth("user name longer than 16 bytes".into()));
        }
        let chal_req = Request::new(NETFN_APP, lan15::CMD_GET_SESSION_CHALLENGE, lan15::session_challenge_request(auth, cfg.username.as_bytes()));
        let chal = Self::presession_v15(transport, "Get Session Challenge", &chal_req, deadline)?;
        match chal.completion {
            0 => {}
            0x81 | 0x82 => {
                return Err(SessionError::Auth(format!("BMC refused user '{}' (Get Session Challenge: {})", cfg.username,
                    if chal.completion == 0x81 { "invalid user name" } else { "null user name not enabled" })))
            }
            code => return Err(SessionError::Completion { command: "Get Session Challenge", code }),
        }
        let (temp_sid, challenge) = lan15::parse_session_challenge(&chal.data)
            .ok_or_else(|| SessionError::Protocol("short Get Session Challenge response".into()))?;

        let password = lan15::password16(&cfg.password);
        let outbound_seq = random_nonzero_u32();
        let act_req = Request::new(
            NETFN_APP,
            lan15::CMD_ACTIVATE_SESSION,
            lan15::activate_session_request(auth, cfg.privilege as u8, &challenge, outbound_seq),
        );
        let act_msg = messages::encode_request(&act_req, 1);
        // A BMC drops an Activate Session whose AuthCode does not verify, silently. It has just
        // answered Get Session Challenge, so a long silence now means "wrong password": give it
        // a few retransmissions, not the whole login time.
        let activated = transport.exchange(
            "Activate Session",
            deadline.capped(ACTIVATE_WAIT),
            || lan15::encode(auth, 0, temp_sid, &password, &act_msg),
            |dg| {
                let Some(p) = lan15::decode(dg, Some(&password)) else { return Accept::Ignore };
                let Ok(r) = messages::decode_response(&p.message) else { return Accept::Ignore };
                if r.cmd != lan15::CMD_ACTIVATE_SESSION || r.netfn != NETFN_APP + 1 {
                    return Accept::Ignore;
                }
                match r.completion {
                    0 => match lan15::parse_activate_session(&r.data) {
                        Some(a) => Accept::Done(a),
                        None => Accept::Fail(SessionError::Protocol("short Activate Session response".into())),
                    },
                    0x81..=0x86 => Accept::Fail(SessionError::Auth(format!(
                        "BMC refused to activate the session for user '{}': completion code 0x{:02x} (no session slot, bad challenge or privilege)",
                        cfg.username, r.completion
                    ))),
                    code => Accept::Fail(SessionError::Completion { command: "Activate Session", code }),
                }
            },
        );
        let activated = match activated {
            Ok(a) => a,
            Err(SessionError::Timeout(m)) if auth != AuthType::None && !deadline.expired() => {
                return Err(SessionError::Auth(format!(
                    "authentication failed for user '{}' (auth type {}): wrong password? ({m})",
                    cfg.username,
                    auth.name()
                )))
            }
            Err(e) => return Err(e),
        };
        log(&format!("IPMI 1.5 session 0x{:08x} active", activated.session_id));
        let state = State::Lan15 {
            auth: activated.auth,
            session_id: activated.session_id,
            seq: activated.initial_inbound_seq.max(1),
            password,
            inbound_seq: outbound_seq.wrapping_sub(1),
        };
        Ok((state, activated.auth))
    }

    fn set_privilege(&mut self, privilege: Privilege, deadline: Deadline) -> Result<(), SessionError> {
        let rsp = self.request(&Request::new(NETFN_APP, CMD_SET_SESSION_PRIVILEGE, vec![privilege as u8]), deadline)?;
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
        let rq_seq = self.rq_seq;
        let msg = messages::encode_request(req, rq_seq);
        let what = format!("command netfn 0x{:02x} cmd 0x{:02x}", req.netfn, req.cmd);
        let (state, transport) = (&mut self.state, &mut self.transport);
        match state {
            State::Lanplus { keys, console_sid, bmc_sid, seq, inbound_seq } => {
                let (keys, console_sid, bmc_sid) = (keys.clone(), *console_sid, *bmc_sid);
                let replay_checked = keys.suite.integ != crypto::IntegAlg::None;
                let last_inbound = *inbound_seq;
                let (rsp, rsp_seq) = transport.exchange(
                    &what,
                    deadline,
                    || {
                        *seq = seq.wrapping_add(1).max(1);
                        let mut iv = [0u8; 16];
                        rand::thread_rng().fill_bytes(&mut iv);
                        rmcpplus::encode_session(&keys, bmc_sid, *seq, &msg, iv)
                    },
                    |dg| {
                        let Ok(p) = rmcpplus::decode(dg, Some(&keys)) else { return Accept::Ignore };
                        if p.payload_type != rmcpplus::PAYLOAD_IPMI || p.session_id != console_sid {
                            return Accept::Ignore;
                        }
                        if replay_checked && p.seq <= last_inbound {
                            return Accept::Ignore;
                        }
                        match messages::decode_response(&p.payload) {
                            Ok(r) if r.rq_seq == rq_seq && r.cmd == req.cmd && r.netfn == req.netfn + 1 => {
                                Accept::Done((r, p.seq))
                            }
                            _ => Accept::Ignore,
                        }
                    },
                )?;
                if replay_checked {
                    *inbound_seq = rsp_seq;
                }
                Ok(rsp)
            }
            State::Lan15 { auth, session_id, seq, password, inbound_seq } => {
                let (auth, session_id, password) = (*auth, *session_id, *password);
                let replay_checked = auth != AuthType::None;
                let last_inbound = *inbound_seq;
                let (rsp, rsp_seq) = transport.exchange(
                    &what,
                    deadline,
                    || {
                        let pkt = lan15::encode(auth, *seq, session_id, &password, &msg);
                        *seq = seq.wrapping_add(1).max(1);
                        pkt
                    },
                    |dg| {
                        let Some(p) = lan15::decode(dg, Some(&password)) else { return Accept::Ignore };
                        if p.session_id != session_id {
                            return Accept::Ignore;
                        }
                        // Newer than the last accepted, modulo 2^32 (it starts at a random value).
                        // (A BMC with per-message authentication off may answer without an
                        // AuthCode; IPMI 1.5 cannot protect those, so they are not checked.)
                        let authenticated = p.auth != AuthType::None;
                        if replay_checked && authenticated && (p.seq.wrapping_sub(last_inbound) as i32) <= 0 {
                            return Accept::Ignore;
                        }
                        match messages::decode_response(&p.message) {
                            Ok(r) if r.rq_seq == rq_seq && r.cmd == req.cmd && r.netfn == req.netfn + 1 => {
                                Accept::Done((r, authenticated.then_some(p.seq)))
                            }
                            _ => Accept::Ignore,
                        }
                    },
                )?;
                if let Some(n) = rsp_seq {
                    *inbound_seq = n;
                }
                Ok(rsp)
            }
        }
    }

    /// Send a request and return its data, turning a non-zero completion code into an error.
    pub fn command(&mut self, name: &'static str, req: &Request, deadline: Deadline) -> Result<Vec<u8>, SessionError> {
        let rsp = self.request(req, deadline)?;
        if rsp.completion != 0 {
            return Err(SessionError::Completion { command: name, code: rsp.completion });
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
            Ok(r) if r.completion == 0 => (self.log)("session closed"),
            Ok(r) => (self.log)(&format!("Close Session: completion code {}", CompletionCode(r.completion))),
            Err(e) => (self.log)(&format!("Close Session: {e}")),
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.close(Deadline::after(Duration::from_millis(500)));
    }
}
