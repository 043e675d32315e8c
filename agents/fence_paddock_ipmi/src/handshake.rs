//! Session establishment: the RMCP+ handshake (Open Session, RAKP 1-4, with suite fallback and
//! restarts when retransmissions crossed) and the IPMI v1.5 activation (Get Channel
//! Authentication Capabilities, Get Session Challenge, Activate Session). Each returns the
//! state of the new session; `session` raises its privilege and runs it.

use std::time::Duration;

use rand::RngCore;
use stonith::Deadline;

use crate::crypto::{self, CipherSuite, RakpParams};
use crate::lan15::{self, AuthType};
use crate::messages::{self, Request, Response, NETFN_APP};
use crate::rmcpplus;
use crate::session::{SessionConfig, SessionError, State};
use crate::transport::{Accept, Conversation, Transport};

/// RMCP+ status "no cipher suite match with proposed security algorithms" and its relatives:
/// the BMC does not speak the suite we proposed.
const SUITE_REJECTED: &[u8] = &[0x04, 0x05, 0x06, 0x07, 0x10, 0x11];
/// How long a v1.5 Activate Session may stay unanswered before we conclude the password is wrong.
const ACTIVATE_WAIT: Duration = Duration::from_secs(2);
/// Attempts at the whole RMCP+ handshake when the BMC lost track of it (RAKP 4 with an error
/// status after retransmissions crossed).
const HANDSHAKE_ATTEMPTS: u32 = 3;

/// How an RMCP+ handshake attempt failed, for `open` to decide what to do next.
pub(crate) enum OpenError {
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
    pub(crate) fn into_inner(self) -> SessionError {
        match self {
            OpenError::Failed(e) | OpenError::SuiteRejected(e) | OpenError::Restart(e) => e,
        }
    }
}

pub(crate) fn random_nonzero_u32() -> u32 {
    loop {
        let v = rand::thread_rng().next_u32();
        if v != 0 {
            return v;
        }
    }
}

pub(crate) fn open_lanplus_retrying(
    transport: &mut Transport,
    cfg: &SessionConfig,
    suite: CipherSuite,
    deadline: Deadline,
) -> Result<State, OpenError> {
    let mut attempt = 1;
    loop {
        match open_lanplus(transport, cfg, suite, deadline) {
            Err(OpenError::Restart(e)) if attempt < HANDSHAKE_ATTEMPTS && !deadline.expired() => {
                tracing::debug!("{e}; starting the RMCP+ handshake again");
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// The RMCP+ handshake as the spec sequences it: Open Session, then RAKP 1 and 2 (the BMC
/// proves it knows the password), then RAKP 3 and 4 (we prove it; both derive the keys).
fn open_lanplus(
    transport: &mut Transport,
    cfg: &SessionConfig,
    suite: CipherSuite,
    deadline: Deadline,
) -> Result<State, OpenError> {
    let handshake = Handshake::new(cfg, suite);
    tracing::debug!(
        "RMCP+ open session, cipher suite {}, console session 0x{:08x}",
        suite.id,
        handshake.console_sid
    );
    let bmc_sid = handshake.open_session(transport, deadline)?;
    let kuid = crypto::key20(&cfg.password);
    let (params, rakp3_code) = handshake.rakp_1_2(transport, bmc_sid, &kuid, deadline)?;
    let keys = handshake.rakp_3_4(transport, params, &rakp3_code, &kuid, deadline)?;
    tracing::debug!("RMCP+ session established, BMC session 0x{bmc_sid:08x}");
    Ok(State::Lanplus {
        keys,
        console_sid: handshake.console_sid,
        bmc_sid,
        seq: 0,
        inbound_seq: 0,
    })
}

/// What every message of one RMCP+ handshake shares.
struct Handshake<'a> {
    cfg: &'a SessionConfig,
    suite: CipherSuite,
    console_sid: u32,
    /// Message tag: matches each response to this handshake.
    tag: u8,
}

/// The payload of a pre-session datagram of `payload_type`, or None (not for us: ignore it).
fn presession_payload(datagram: &[u8], payload_type: u8) -> Option<Vec<u8>> {
    rmcpplus::decode(datagram, None)
        .ok()
        .filter(|p| p.payload_type == payload_type)
        .map(|p| p.payload)
}

impl<'a> Handshake<'a> {
    fn new(cfg: &'a SessionConfig, suite: CipherSuite) -> Self {
        let console_sid = random_nonzero_u32();
        Handshake {
            cfg,
            suite,
            console_sid,
            tag: (console_sid & 0x3f) as u8,
        }
    }

    /// Whether a response belongs to this handshake: our tag and session id (a refusal may
    /// carry session id 0).
    fn is_ours(&self, tag: u8, console_sid: u32, status: u8) -> bool {
        tag == self.tag && (console_sid == self.console_sid || (status != 0 && console_sid == 0))
    }

    /// Open Session Request → Response: the BMC's session id, once it agreed to our suite.
    fn open_session(
        &self,
        transport: &mut Transport,
        deadline: Deadline,
    ) -> Result<u32, OpenError> {
        let request = rmcpplus::open_session_request(
            self.tag,
            self.cfg.privilege as u8,
            self.console_sid,
            &self.suite,
        );
        let mut step = OpenSession {
            handshake: self,
            request,
            suite_rejected: false,
        };
        let open = match transport.converse("RMCP+ Open Session Request", deadline, &mut step) {
            Ok(open) => open,
            Err(e) if step.suite_rejected => return Err(OpenError::SuiteRejected(e)),
            Err(e) => return Err(e.into()),
        };
        let suite = self.suite;
        if (open.auth, open.integ, open.conf)
            != (suite.auth as u8, suite.integ as u8, suite.conf as u8)
        {
            return Err(SessionError::Protocol(format!(
                "BMC answered cipher suite {} with other algorithms (auth {}, integrity {}, confidentiality {})",
                suite.id, open.auth, open.integ, open.conf
            ))
            .into());
        }
        Ok(open.bmc_sid)
    }

    /// RAKP 1 → 2: the BMC's random number and GUID, with a code that proves it knows the
    /// password. Returns the exchange's parameters and the code RAKP 3 carries back.
    fn rakp_1_2(
        &self,
        transport: &mut Transport,
        bmc_sid: u32,
        kuid: &[u8; 20],
        deadline: Deadline,
    ) -> Result<(RakpParams<'a>, Vec<u8>), OpenError> {
        let username = self.cfg.username.as_bytes();
        if username.len() > 16 {
            return Err(SessionError::Auth("user name longer than 16 bytes".into()).into());
        }
        let mut console_random = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut console_random);
        // Role: requested privilege, name-only lookup (bit 4), as ipmitool does.
        let role = self.cfg.privilege as u8 | 0x10;
        let mut step = Rakp1 {
            handshake: self,
            kuid,
            message: rmcpplus::rakp1(self.tag, bmc_sid, &console_random, role, username),
            params: RakpParams {
                console_sid: self.console_sid,
                bmc_sid,
                console_random,
                bmc_random: [0; 16],
                bmc_guid: [0; 16],
                role,
                username,
            },
        };
        match transport.converse("RAKP Message 1", deadline, &mut step) {
            Ok(rakp3_code) => Ok((step.params, rakp3_code)),
            Err(e) => {
                if matches!(e, SessionError::Auth(_)) {
                    // Tell the BMC to drop the half-open session now rather than at its timeout.
                    let abort = rmcpplus::rakp3(self.tag, 0x0f, bmc_sid, &[]);
                    transport.send_only(&rmcpplus::encode_presession(
                        rmcpplus::PAYLOAD_RAKP3,
                        &abort,
                    ));
                }
                Err(e.into())
            }
        }
    }

    /// RAKP 3 → 4: our proof of the password; the BMC's answer confirms the session keys
    /// both sides derived (with Kg, when the BMC has one).
    fn rakp_3_4(
        &self,
        transport: &mut Transport,
        params: RakpParams<'a>,
        rakp3_code: &[u8],
        kuid: &[u8; 20],
        deadline: Deadline,
    ) -> Result<rmcpplus::SessionKeys, OpenError> {
        let kg: Vec<u8> = match self.cfg.kg {
            Some(k) if k.iter().any(|&b| b != 0) => k.to_vec(),
            _ => kuid.to_vec(),
        };
        let mut step = Rakp3 {
            handshake: self,
            kuid,
            kg,
            message: rmcpplus::rakp3(self.tag, 0, params.bmc_sid, rakp3_code),
            params,
            refused: false,
        };
        match transport.converse("RAKP Message 3", deadline, &mut step) {
            Ok(keys) => Ok(keys),
            Err(e) if step.refused => Err(OpenError::Restart(e)),
            Err(e) => Err(e.into()),
        }
    }
}

/// The Open Session exchange.
struct OpenSession<'h, 'a> {
    handshake: &'h Handshake<'a>,
    request: Vec<u8>,
    /// The BMC refused because it does not speak the proposed suite.
    suite_rejected: bool,
}

impl Conversation for OpenSession<'_, '_> {
    type Answer = rmcpplus::OpenSessionResponse;

    fn request(&mut self) -> Vec<u8> {
        rmcpplus::encode_presession(rmcpplus::PAYLOAD_OPEN_SESSION_REQUEST, &self.request)
    }

    fn accept(&mut self, datagram: &[u8]) -> Accept<Self::Answer> {
        let Some(response) = presession_payload(datagram, rmcpplus::PAYLOAD_OPEN_SESSION_RESPONSE)
            .and_then(|p| rmcpplus::parse_open_session_response(&p))
        else {
            return Accept::Ignore;
        };
        if !self
            .handshake
            .is_ours(response.tag, response.console_sid, response.status)
        {
            return Accept::Ignore;
        }
        if response.status == 0 {
            return Accept::Done(response);
        }
        self.suite_rejected = SUITE_REJECTED.contains(&response.status);
        Accept::Fail(SessionError::Auth(format!(
            "BMC refused the RMCP+ session with cipher suite {}: {}",
            self.handshake.suite.id,
            rmcpplus::status_code_name(response.status)
        )))
    }
}

/// The RAKP 1 → 2 exchange; fills in the BMC's random number and GUID.
struct Rakp1<'h, 'a> {
    handshake: &'h Handshake<'a>,
    kuid: &'h [u8; 20],
    message: Vec<u8>,
    params: RakpParams<'a>,
}

impl Conversation for Rakp1<'_, '_> {
    /// The code RAKP 3 carries.
    type Answer = Vec<u8>;

    fn request(&mut self) -> Vec<u8> {
        rmcpplus::encode_presession(rmcpplus::PAYLOAD_RAKP1, &self.message)
    }

    fn accept(&mut self, datagram: &[u8]) -> Accept<Vec<u8>> {
        let Some(rakp2) = presession_payload(datagram, rmcpplus::PAYLOAD_RAKP2)
            .and_then(|p| rmcpplus::parse_rakp2(&p))
        else {
            return Accept::Ignore;
        };
        let handshake = self.handshake;
        if !handshake.is_ours(rakp2.tag, rakp2.console_sid, rakp2.status) {
            return Accept::Ignore;
        }
        if rakp2.status != 0 {
            return Accept::Fail(SessionError::Auth(format!(
                "BMC refused user '{}': {}",
                handshake.cfg.username,
                rmcpplus::status_code_name(rakp2.status)
            )));
        }
        self.params.bmc_random = rakp2.bmc_random;
        self.params.bmc_guid = rakp2.bmc_guid;
        match rmcpplus::check_rakp2(handshake.suite.auth, self.kuid, &self.params, &rakp2) {
            Ok(code) => Accept::Done(code),
            Err(_) => Accept::Fail(SessionError::Auth(format!(
                "authentication failed for user '{}': wrong password (RAKP 2 code mismatch)",
                handshake.cfg.username
            ))),
        }
    }
}

/// The RAKP 3 → 4 exchange.
///
/// If the BMC answered a retransmitted RAKP 1 too, it now holds a new random number and a
/// RAKP 2 for it may arrive while we wait for RAKP 4: we follow it (it must verify) and resend
/// RAKP 3 with the code for the BMC's current state.
struct Rakp3<'h, 'a> {
    handshake: &'h Handshake<'a>,
    kuid: &'h [u8; 20],
    kg: Vec<u8>,
    /// The RAKP 3 for `params`, the BMC's current state.
    message: Vec<u8>,
    params: RakpParams<'a>,
    /// The BMC answered RAKP 3 with an error: its state and ours diverged.
    refused: bool,
}

impl Rakp3<'_, '_> {
    /// Decodes a datagram; ipmi_sim answers a repeated RAKP 3 (after its first RAKP 4 was
    /// lost) with a RAKP 4 protected by the new session's keys, so those are tried too.
    fn decode(&self, datagram: &[u8]) -> Option<rmcpplus::Packet> {
        rmcpplus::decode(datagram, None).ok().or_else(|| {
            let (keys, _) =
                rmcpplus::derive_session_keys(self.handshake.suite, &self.kg, &self.params);
            rmcpplus::decode(datagram, Some(&keys))
                .ok()
                .filter(|p| p.payload_type == rmcpplus::PAYLOAD_RAKP4)
        })
    }

    /// A newer RAKP 2 (the BMC answered a repeated RAKP 1): follow it if it verifies.
    fn follow_newer_rakp2(&mut self, payload: &[u8]) -> Accept<rmcpplus::SessionKeys> {
        let handshake = self.handshake;
        let Some(rakp2) = rmcpplus::parse_rakp2(payload) else {
            return Accept::Ignore;
        };
        if rakp2.tag != handshake.tag
            || rakp2.console_sid != handshake.console_sid
            || rakp2.status != 0
            || rakp2.bmc_random == self.params.bmc_random
        {
            return Accept::Ignore;
        }
        let mut newer = self.params.clone();
        newer.bmc_random = rakp2.bmc_random;
        newer.bmc_guid = rakp2.bmc_guid;
        match rmcpplus::check_rakp2(handshake.suite.auth, self.kuid, &newer, &rakp2) {
            Ok(code) => {
                tracing::debug!("the BMC answered a repeated RAKP 1; following its newer RAKP 2",);
                self.message = rmcpplus::rakp3(handshake.tag, 0, newer.bmc_sid, &code);
                self.params = newer;
                Accept::Resend
            }
            Err(_) => Accept::Ignore,
        }
    }
}

impl Conversation for Rakp3<'_, '_> {
    type Answer = rmcpplus::SessionKeys;

    fn request(&mut self) -> Vec<u8> {
        rmcpplus::encode_presession(rmcpplus::PAYLOAD_RAKP3, &self.message)
    }

    fn accept(&mut self, datagram: &[u8]) -> Accept<Self::Answer> {
        let Some(packet) = self.decode(datagram) else {
            return Accept::Ignore;
        };
        if packet.payload_type == rmcpplus::PAYLOAD_RAKP2 {
            return self.follow_newer_rakp2(&packet.payload);
        }
        if packet.payload_type != rmcpplus::PAYLOAD_RAKP4 {
            return Accept::Ignore;
        }
        let Some(rakp4) = rmcpplus::parse_rakp4(&packet.payload) else {
            return Accept::Ignore;
        };
        let handshake = self.handshake;
        if !handshake.is_ours(rakp4.tag, rakp4.console_sid, rakp4.status) {
            return Accept::Ignore;
        }
        if rakp4.status != 0 {
            self.refused = true;
            return Accept::Fail(SessionError::Auth(format!(
                "BMC refused the RAKP exchange for user '{}': {}",
                handshake.cfg.username,
                rmcpplus::status_code_name(rakp4.status)
            )));
        }
        match rmcpplus::finish_rakp4(handshake.suite, &self.kg, &self.params, &rakp4) {
            Ok(keys) => Accept::Done(keys),
            Err(_) => Accept::Fail(SessionError::Auth(
                "RMCP+ session keys do not match the BMC's (RAKP 4 check failed): wrong or missing Kg key (hexadecimal_kg)"
                    .into(),
            )),
        }
    }
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
        |dg| match lan15::decode(dg, None).and_then(|p| messages::decode_response(&p.message).ok())
        {
            Some(r) if r.cmd == req.cmd && r.netfn == req.netfn + 1 => Accept::Done(r),
            _ => Accept::Ignore,
        },
    )
}

/// The IPMI v1.5 activation: Get Channel Authentication Capabilities (which auth type),
/// Get Session Challenge (for our user), Activate Session (with the password's AuthCode).
pub(crate) fn open_lan15(
    transport: &mut Transport,
    cfg: &SessionConfig,
    wanted: Option<AuthType>,
    deadline: Deadline,
) -> Result<(State, AuthType), SessionError> {
    let auth = channel_auth_type(transport, cfg, wanted, deadline)?;
    tracing::debug!("IPMI 1.5 session, auth type {}", auth.name());
    let (temp_sid, challenge) = session_challenge(transport, cfg, auth, deadline)?;
    let state = activate_session(transport, cfg, auth, temp_sid, &challenge, deadline)?;
    Ok((state, auth))
}

/// Get Channel Authentication Capabilities: the auth type to use (`wanted`, if the BMC offers it).
fn channel_auth_type(
    transport: &mut Transport,
    cfg: &SessionConfig,
    wanted: Option<AuthType>,
    deadline: Deadline,
) -> Result<AuthType, SessionError> {
    const WHAT: &str = "Get Channel Authentication Capabilities";
    let request = Request::new(
        NETFN_APP,
        lan15::CMD_GET_CHANNEL_AUTH_CAPS,
        lan15::channel_auth_caps_request(cfg.privilege as u8, false),
    );
    let caps = presession_v15(transport, WHAT, &request, deadline)?;
    if caps.completion != 0 {
        return Err(SessionError::Completion {
            command: WHAT,
            code: caps.completion,
        });
    }
    let caps = lan15::parse_channel_auth_caps(&caps.data)
        .ok_or_else(|| SessionError::Protocol(format!("short {WHAT} response")))?;
    lan15::choose_auth(&caps, wanted).map_err(SessionError::Auth)
}

/// Get Session Challenge: a temporary session id and the challenge Activate Session answers.
fn session_challenge(
    transport: &mut Transport,
    cfg: &SessionConfig,
    auth: AuthType,
    deadline: Deadline,
) -> Result<(u32, [u8; 16]), SessionError> {
    if cfg.username.len() > 16 {
        return Err(SessionError::Auth("user name longer than 16 bytes".into()));
    }
    let request = Request::new(
        NETFN_APP,
        lan15::CMD_GET_SESSION_CHALLENGE,
        lan15::session_challenge_request(auth, cfg.username.as_bytes()),
    );
    let challenge = presession_v15(transport, "Get Session Challenge", &request, deadline)?;
    let refusal = match challenge.completion {
        0 => None,
        0x81 => Some("invalid user name"),
        0x82 => Some("null user name not enabled"),
        code => {
            return Err(SessionError::Completion {
                command: "Get Session Challenge",
                code,
            })
        }
    };
    if let Some(why) = refusal {
        return Err(SessionError::Auth(format!(
            "BMC refused user '{}' (Get Session Challenge: {why})",
            cfg.username
        )));
    }
    lan15::parse_session_challenge(&challenge.data)
        .ok_or_else(|| SessionError::Protocol("short Get Session Challenge response".into()))
}

/// Activate Session: the session, or a refusal. A BMC drops an Activate Session whose AuthCode
/// does not verify, silently; it has just answered Get Session Challenge, so a long silence now
/// means "wrong password": it gets a few retransmissions, not the whole login time.
fn activate_session(
    transport: &mut Transport,
    cfg: &SessionConfig,
    auth: AuthType,
    temp_sid: u32,
    challenge: &[u8; 16],
    deadline: Deadline,
) -> Result<State, SessionError> {
    let password = lan15::password16(&cfg.password);
    let outbound_seq = random_nonzero_u32();
    let request = Request::new(
        NETFN_APP,
        lan15::CMD_ACTIVATE_SESSION,
        lan15::activate_session_request(auth, cfg.privilege as u8, challenge, outbound_seq),
    );
    let message = messages::encode_request(&request, 1);
    let activated = transport.exchange(
        "Activate Session",
        deadline.capped(ACTIVATE_WAIT),
        || lan15::encode(auth, 0, temp_sid, &password, &message),
        |datagram| accept_activation(datagram, &password, &cfg.username),
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
    tracing::debug!("IPMI 1.5 session 0x{:08x} active", activated.session_id);
    Ok(State::Lan15 {
        auth: activated.auth,
        session_id: activated.session_id,
        seq: activated.initial_inbound_seq.max(1),
        password,
        inbound_seq: outbound_seq.wrapping_sub(1),
    })
}

fn accept_activation(
    datagram: &[u8],
    password: &[u8; 16],
    username: &str,
) -> Accept<lan15::Activated> {
    let Some(packet) = lan15::decode(datagram, Some(password)) else {
        return Accept::Ignore;
    };
    let Ok(response) = messages::decode_response(&packet.message) else {
        return Accept::Ignore;
    };
    if response.cmd != lan15::CMD_ACTIVATE_SESSION || response.netfn != NETFN_APP + 1 {
        return Accept::Ignore;
    }
    match response.completion {
        0 => match lan15::parse_activate_session(&response.data) {
            Some(activated) => Accept::Done(activated),
            None => Accept::Fail(SessionError::Protocol(
                "short Activate Session response".into(),
            )),
        },
        0x81..=0x86 => Accept::Fail(SessionError::Auth(format!(
            "BMC refused to activate the session for user '{username}': completion code 0x{:02x} (no session slot, bad challenge or privilege)",
            response.completion
        ))),
        code => Accept::Fail(SessionError::Completion {
            command: "Activate Session",
            code,
        }),
    }
}
