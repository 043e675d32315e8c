//! IPMI v1.5 LAN sessions (IPMI 2.0 spec §13.6, §22.13–22.15), used with `lanplus=0`: the
//! session header with its AuthCode (none, straight password or MD5), and the messages of
//! session activation: Get Channel Authentication Capabilities, Get Session Challenge,
//! Activate Session. No I/O.

use crate::crypto;
use crate::rmcp;

pub const CMD_GET_CHANNEL_AUTH_CAPS: u8 = 0x38;
pub const CMD_GET_SESSION_CHALLENGE: u8 = 0x39;
pub const CMD_ACTIVATE_SESSION: u8 = 0x3a;

/// v1.5 authentication types (spec table 13-3 "Authentication Type").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthType {
    None = 0,
    Md5 = 2,
    /// "Straight password / key": the password itself travels as the AuthCode.
    Password = 4,
}

impl AuthType {
    fn from_byte(b: u8) -> Option<AuthType> {
        match b & 0x3f {
            0 => Some(AuthType::None),
            2 => Some(AuthType::Md5),
            4 => Some(AuthType::Password),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            AuthType::None => "none",
            AuthType::Md5 => "md5",
            AuthType::Password => "password",
        }
    }
}

/// A v1.5 password: 16 bytes, zero padded.
pub fn password16(password: &[u8]) -> [u8; 16] {
    let mut p = [0u8; 16];
    let n = password.len().min(16);
    p[..n].copy_from_slice(&password[..n]);
    p
}

fn authcode(
    auth: AuthType,
    password: &[u8; 16],
    sid: u32,
    msg: &[u8],
    seq: u32,
) -> Option<[u8; 16]> {
    match auth {
        AuthType::None => None,
        AuthType::Password => Some(*password),
        AuthType::Md5 => Some(crypto::md5_authcode(password, sid, msg, seq)),
    }
}

/// A v1.5 session packet around one IPMI message.
pub fn encode(
    auth: AuthType,
    seq: u32,
    session_id: u32,
    password: &[u8; 16],
    msg: &[u8],
) -> Vec<u8> {
    let mut p = Vec::with_capacity(30 + msg.len());
    p.extend_from_slice(&rmcp::IPMI_HEADER);
    p.push(auth as u8);
    p.extend_from_slice(&seq.to_le_bytes());
    p.extend_from_slice(&session_id.to_le_bytes());
    if let Some(code) = authcode(auth, password, session_id, msg, seq) {
        p.extend_from_slice(&code);
    }
    p.push(msg.len() as u8);
    p.extend_from_slice(msg);
    p
}

/// A decoded v1.5 packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    pub auth: AuthType,
    pub seq: u32,
    pub session_id: u32,
    pub message: Vec<u8>,
}

/// Decode a v1.5 packet. With `password`, an AuthCode present in the packet must verify.
/// Returns `None` for anything malformed or forged.
pub fn decode(datagram: &[u8], password: Option<&[u8; 16]>) -> Option<Packet> {
    let body = rmcp::ipmi_body(datagram)?;
    let auth = AuthType::from_byte(*body.first()?)?;
    if body.len() < 10 {
        return None;
    }
    let seq = u32::from_le_bytes([body[1], body[2], body[3], body[4]]);
    let session_id = u32::from_le_bytes([body[5], body[6], body[7], body[8]]);
    let (code, rest) = match auth {
        AuthType::None => (None, &body[9..]),
        _ => {
            if body.len() < 26 {
                return None;
            }
            (Some(&body[9..25]), &body[25..])
        }
    };
    let (&len, rest) = rest.split_first()?;
    // A legacy pad byte may follow the message.
    if rest.len() < len as usize {
        return None;
    }
    let message = rest[..len as usize].to_vec();
    if let (Some(code), Some(pw)) = (code, password) {
        let expected = authcode(auth, pw, session_id, &message, seq)?;
        if !crypto::codes_equal(&expected, code) {
            return None;
        }
    }
    Some(Packet {
        auth,
        seq,
        session_id,
        message,
    })
}

/// Get Channel Authentication Capabilities data: current channel, requested privilege.
/// Bit 7 asks for IPMI v2.0 extended data.
pub fn channel_auth_caps_request(privilege: u8, want_v2: bool) -> Vec<u8> {
    vec![0x0e | if want_v2 { 0x80 } else { 0 }, privilege & 0x0f]
}

/// What the BMC supports on this channel at this privilege.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthCaps {
    pub none: bool,
    pub md5: bool,
    pub password: bool,
    pub ipmi20: bool,
}

pub fn parse_channel_auth_caps(data: &[u8]) -> Option<AuthCaps> {
    if data.len() < 8 {
        return None;
    }
    let b = data[1];
    Some(AuthCaps {
        none: b & 0x01 != 0,
        md5: b & 0x04 != 0,
        password: b & 0x10 != 0,
        ipmi20: b & 0x80 != 0 && data[3] & 0x02 != 0,
    })
}

/// The strongest auth type both sides accept, or the one the operator asked for.
pub fn choose_auth(caps: &AuthCaps, wanted: Option<AuthType>) -> Result<AuthType, String> {
    match wanted {
        Some(a) => {
            let ok = match a {
                AuthType::None => caps.none,
                AuthType::Md5 => caps.md5,
                AuthType::Password => caps.password,
            };
            if ok {
                Ok(a)
            } else {
                Err(format!(
                    "the BMC does not offer IPMI 1.5 auth type {} at this privilege level",
                    a.name()
                ))
            }
        }
        None if caps.md5 => Ok(AuthType::Md5),
        None if caps.password => Ok(AuthType::Password),
        None if caps.none => Ok(AuthType::None),
        None => Err(
            "the BMC offers no IPMI 1.5 auth type this agent speaks (none, password, md5)".into(),
        ),
    }
}

/// Get Session Challenge data: auth type, user name (16 bytes, zero padded).
pub fn session_challenge_request(auth: AuthType, username: &[u8]) -> Vec<u8> {
    let mut d = vec![auth as u8];
    d.extend_from_slice(&password16(username));
    d
}

/// Temporary session ID and challenge string.
pub fn parse_session_challenge(data: &[u8]) -> Option<(u32, [u8; 16])> {
    if data.len() < 20 {
        return None;
    }
    let mut challenge = [0u8; 16];
    challenge.copy_from_slice(&data[4..20]);
    Some((
        u32::from_le_bytes([data[0], data[1], data[2], data[3]]),
        challenge,
    ))
}

/// Activate Session data: auth type, max privilege, challenge, our initial outbound sequence.
pub fn activate_session_request(
    auth: AuthType,
    privilege: u8,
    challenge: &[u8; 16],
    initial_outbound_seq: u32,
) -> Vec<u8> {
    let mut d = vec![auth as u8, privilege & 0x0f];
    d.extend_from_slice(challenge);
    d.extend_from_slice(&initial_outbound_seq.to_le_bytes());
    d
}

/// Activate Session response: the session's auth type, ID, the sequence number to start
/// from, and the maximum privilege.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Activated {
    pub auth: AuthType,
    pub session_id: u32,
    pub initial_inbound_seq: u32,
    pub max_privilege: u8,
}

pub fn parse_activate_session(data: &[u8]) -> Option<Activated> {
    if data.len() < 10 {
        return None;
    }
    Some(Activated {
        auth: AuthType::from_byte(data[0])?,
        session_id: u32::from_le_bytes([data[1], data[2], data[3], data[4]]),
        initial_inbound_seq: u32::from_le_bytes([data[5], data[6], data[7], data[8]]),
        max_privilege: data[9] & 0x0f,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_each_auth_type() {
        let pw = password16(b"secret");
        for auth in [AuthType::None, AuthType::Password, AuthType::Md5] {
            let pkt = encode(auth, 5, 0x01020304, &pw, &[1, 2, 3]);
            let d = decode(&pkt, Some(&pw)).expect("decodes");
            assert_eq!(
                (d.auth, d.seq, d.session_id, d.message.as_slice()),
                (auth, 5, 0x01020304, &[1u8, 2, 3][..])
            );
        }
    }

    #[test]
    fn forged_md5_or_short_packets_are_refused() {
        let pw = password16(b"secret");
        let pkt = encode(AuthType::Md5, 5, 7, &pw, &[1, 2, 3]);
        assert!(decode(&pkt, Some(&password16(b"other"))).is_none());
        for n in 0..pkt.len() {
            assert!(decode(&pkt[..n], Some(&pw)).is_none());
        }
    }

    #[test]
    fn auth_choice() {
        let caps = AuthCaps {
            none: true,
            md5: true,
            password: true,
            ipmi20: true,
        };
        assert_eq!(choose_auth(&caps, None), Ok(AuthType::Md5));
        let only_pw = AuthCaps { md5: false, ..caps };
        assert_eq!(choose_auth(&only_pw, None), Ok(AuthType::Password));
        assert!(choose_auth(&only_pw, Some(AuthType::Md5)).is_err());
    }
}
