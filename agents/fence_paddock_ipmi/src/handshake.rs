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
use crate::transport::{Accept, Transport};

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
    log(&format!(
        "RMCP+ open session, cipher suite {}, console session 0x{console_sid:08x}",
        suite.id
    ));

    let request = rmcpplus::open_session_request(tag, cfg.privilege as u8, console_sid, &suite);
    let open = transport.exchange(
        "RMCP+ Open Session Request",
        deadline,
        || rmcpplus::encode_presession(rmcpplus::PAYLOAD_OPEN_SESSION_REQUEST, &request),
        |dg| {
            let Ok(p) = rmcpplus::decode(dg, None) else {
                return Accept::Ignore;
            };
            if p.payload_type != rmcpplus::PAYLOAD_OPEN_SESSION_RESPONSE {
                return Accept::Ignore;
            }
            match rmcpplus::parse_open_session_response(&p.payload) {
                Some(r)
                    if r.tag == tag
                        && (r.console_sid == console_sid
                            || (r.status != 0 && r.console_sid == 0)) =>
                {
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
    if (open.auth, open.integ, open.conf) != (suite.auth as u8, suite.integ as u8, suite.conf as u8)
    {
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
            let Ok(p) = rmcpplus::decode(dg, None) else {
                return Accept::Ignore;
            };
            if p.payload_type != rmcpplus::PAYLOAD_RAKP2 {
                return Accept::Ignore;
            }
            let Some(r2) = rmcpplus::parse_rakp2(&p.payload) else {
                return Accept::Ignore;
            };
            if r2.tag != tag
                || !(r2.console_sid == console_sid || (r2.status != 0 && r2.console_sid == 0))
            {
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
                transport.send_only(&rmcpplus::encode_presession(
                    rmcpplus::PAYLOAD_RAKP3,
                    &abort,
                ));
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
    let current = std::cell::RefCell::new((
        params.clone(),
        rmcpplus::rakp3(tag, 0, bmc_sid, &rakp3_code),
    ));
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
    log(&format!(
        "RMCP+ session established, BMC session 0x{bmc_sid:08x}"
    ));
    Ok(State::Lanplus {
        keys,
        console_sid,
        bmc_sid,
        seq: 0,
        inbound_seq: 0,
    })
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

pub(crate) fn open_lan15(
    transport: &mut Transport,
    cfg: &SessionConfig,
    wanted: Option<AuthType>,
    deadline: Deadline,
) -> Result<(State, AuthType), SessionError> {
    let log = cfg.log;
    let caps_req = Request::new(
        NETFN_APP,
        lan15::CMD_GET_CHANNEL_AUTH_CAPS,
        lan15::channel_auth_caps_request(cfg.privilege as u8, false),
    );
    let caps = presession_v15(
        transport,
        "Get Channel Authentication Capabilities",
        &caps_req,
        deadline,
    )?;
    if caps.completion != 0 {
        return Err(SessionError::Completion {
            command: "Get Channel Authentication Capabilities",
            code: caps.completion,
        });
    }
    let caps = lan15::parse_channel_auth_caps(&caps.data).ok_or_else(|| {
        SessionError::Protocol("short Get Channel Authentication Capabilities response".into())
    })?;
    let auth = lan15::choose_auth(&caps, wanted).map_err(SessionError::Auth)?;
    log(&format!("IPMI 1.5 session, auth type {}", auth.name()));

    if cfg.username.len() > 16 {
        return Err(SessionError::Auth("user name longer than 16 bytes".into()));
    }
    let chal_req = Request::new(
        NETFN_APP,
        lan15::CMD_GET_SESSION_CHALLENGE,
        lan15::session_challenge_request(auth, cfg.username.as_bytes()),
    );
    let chal = presession_v15(transport, "Get Session Challenge", &chal_req, deadline)?;
    match chal.completion {
        0 => {}
        0x81 | 0x82 => {
            return Err(SessionError::Auth(format!(
                "BMC refused user '{}' (Get Session Challenge: {})",
                cfg.username,
                if chal.completion == 0x81 {
                    "invalid user name"
                } else {
                    "null user name not enabled"
                }
            )))
        }
        code => {
            return Err(SessionError::Completion {
                command: "Get Session Challenge",
                code,
            })
        }
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
    log(&format!(
        "IPMI 1.5 session 0x{:08x} active",
        activated.session_id
    ));
    let state = State::Lan15 {
        auth: activated.auth,
        session_id: activated.session_id,
        seq: activated.initial_inbound_seq.max(1),
        password,
        inbound_seq: outbound_seq.wrapping_sub(1),
    };
    Ok((state, activated.auth))
}
