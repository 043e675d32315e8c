//! IPMI v2.0 RMCP+ (IPMI 2.0 spec §13.6, §13.17–13.31): the session packet format with
//! integrity and confidentiality, and the messages of session establishment (Open Session,
//! RAKP 1–4) with the checks that bind them together. No I/O: the session layer sends
//! what this builds and feeds back what it receives.

use crate::crypto::{self, AuthAlg, CipherSuite, ConfAlg, IntegAlg, RakpParams};
use crate::rmcp;

/// Authentication type / format byte of an RMCP+ packet.
pub const AUTH_TYPE_RMCPP: u8 = 0x06;
pub const PAYLOAD_IPMI: u8 = 0x00;
pub const PAYLOAD_OPEN_SESSION_REQUEST: u8 = 0x10;
pub const PAYLOAD_OPEN_SESSION_RESPONSE: u8 = 0x11;
pub const PAYLOAD_RAKP1: u8 = 0x12;
pub const PAYLOAD_RAKP2: u8 = 0x13;
pub const PAYLOAD_RAKP3: u8 = 0x14;
pub const PAYLOAD_RAKP4: u8 = 0x15;
const FLAG_ENCRYPTED: u8 = 0x80;
const FLAG_AUTHENTICATED: u8 = 0x40;
const NEXT_HEADER: u8 = 0x07;

/// Keys and algorithms of an established session.
#[derive(Clone)]
pub struct SessionKeys {
    pub suite: CipherSuite,
    pub k1: Vec<u8>,
    pub k2: Vec<u8>,
}

impl std::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SessionKeys(suite {})", self.suite.id)
    }
}

/// A decoded RMCP+ packet whose integrity (if any) was checked and whose payload was decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    pub payload_type: u8,
    pub session_id: u32,
    pub seq: u32,
    pub authenticated: bool,
    pub encrypted: bool,
    pub payload: Vec<u8>,
}

/// Why a datagram was not accepted. All of these are "ignore and keep listening" for the
/// session layer, except in the messages they end up in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PacketError {
    NotRmcp,
    NotRmcpPlus(u8),
    Truncated,
    BadIntegrity,
    BadPadding,
    /// The session requires integrity or confidentiality and the packet has none.
    Unprotected,
}

impl std::fmt::Display for PacketError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PacketError::NotRmcp => f.write_str("not an RMCP/IPMI datagram"),
            PacketError::NotRmcpPlus(t) => write!(f, "not an RMCP+ packet (auth type 0x{t:02x})"),
            PacketError::Truncated => f.write_str("truncated RMCP+ packet"),
            PacketError::BadIntegrity => f.write_str("RMCP+ integrity check failed"),
            PacketError::BadPadding => f.write_str("RMCP+ confidentiality padding invalid"),
            PacketError::Unprotected => {
                f.write_str("RMCP+ packet lacks the session's integrity/encryption")
            }
        }
    }
}

/// A packet outside a session (session ID 0, sequence 0, no protection).
pub fn encode_presession(payload_type: u8, payload: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(16 + payload.len());
    p.extend_from_slice(&rmcp::IPMI_HEADER);
    p.push(AUTH_TYPE_RMCPP);
    p.push(payload_type & 0x3f);
    p.extend_from_slice(&0u32.to_le_bytes());
    p.extend_from_slice(&0u32.to_le_bytes());
    p.extend_from_slice(&(payload.len() as u16).to_le_bytes());
    p.extend_from_slice(payload);
    p
}

/// An in-session IPMI packet, encrypted and authenticated as the suite requires.
/// `iv` is only used with AES (the caller draws it at random for every packet).
pub fn encode_session(
    keys: &SessionKeys,
    bmc_session_id: u32,
    seq: u32,
    message: &[u8],
    iv: [u8; 16],
) -> Vec<u8> {
    let encrypted = keys.suite.conf == ConfAlg::AesCbc128;
    let authenticated = keys.suite.integ != IntegAlg::None;
    let payload = if encrypted {
        let mut v = iv.to_vec();
        v.extend(crypto::aes_cbc_encrypt(&keys.k2, &iv, message));
        v
    } else {
        message.to_vec()
    };
    let mut p = Vec::with_capacity(48 + payload.len());
    p.extend_from_slice(&rmcp::IPMI_HEADER);
    p.push(AUTH_TYPE_RMCPP);
    let mut ptype = PAYLOAD_IPMI;
    if encrypted {
        ptype |= FLAG_ENCRYPTED;
    }
    if authenticated {
        ptype |= FLAG_AUTHENTICATED;
    }
    p.push(ptype);
    p.extend_from_slice(&bmc_session_id.to_le_bytes());
    p.extend_from_slice(&seq.to_le_bytes());
    p.extend_from_slice(&(payload.len() as u16).to_le_bytes());
    p.extend_from_slice(&payload);
    if authenticated {
        // Integrity pad: AuthType .. NextHeader must be a multiple of 4 bytes.
        let covered = p.len() - 4 + 2;
        let pad = (4 - covered % 4) % 4;
        p.extend(std::iter::repeat_n(0xffu8, pad));
        p.push(pad as u8);
        p.push(NEXT_HEADER);
        let code = crypto::integrity_code(keys.suite.integ, &keys.k1, &p[4..]);
        p.extend_from_slice(&code);
    }
    p
}

/// Decode any RMCP+ datagram. With `keys` (inside a session), protected packets are verified
/// and decrypted, and unprotected ones are refused if the suite demands protection.
pub fn decode(datagram: &[u8], keys: Option<&SessionKeys>) -> Result<Packet, PacketError> {
    let body = rmcp::ipmi_body(datagram).ok_or(PacketError::NotRmcp)?;
    let (&auth_type, rest) = body.split_first().ok_or(PacketError::Truncated)?;
    if auth_type != AUTH_TYPE_RMCPP {
        return Err(PacketError::NotRmcpPlus(auth_type));
    }
    if rest.len() < 11 {
        return Err(PacketError::Truncated);
    }
    let ptype_byte = rest[0];
    if ptype_byte & 0x3f == 0x02 {
        // OEM explicit payloads carry 6 more header bytes; we never ask for them.
        return Err(PacketError::NotRmcpPlus(ptype_byte));
    }
    let session_id = u32::from_le_bytes([rest[1], rest[2], rest[3], rest[4]]);
    let seq = u32::from_le_bytes([rest[5], rest[6], rest[7], rest[8]]);
    let len = u16::from_le_bytes([rest[9], rest[10]]) as usize;
    let payload_start = 11;
    let payload_end = payload_start + len;
    if rest.len() < payload_end {
        return Err(PacketError::Truncated);
    }
    let encrypted = ptype_byte & FLAG_ENCRYPTED != 0;
    let authenticated = ptype_byte & FLAG_AUTHENTICATED != 0;
    let payload_type = ptype_byte & 0x3f;

    if authenticated {
        let keys = keys.ok_or(PacketError::BadIntegrity)?;
        let code_len = crypto::integrity_len(keys.suite.integ);
        if code_len == 0 {
            return Err(PacketError::BadIntegrity);
        }
        // Trailer: pad (0..3 × 0xFF), pad length, next header, AuthCode.
        let trailer = &rest[payload_end..];
        if trailer.len() < 2 + code_len {
            return Err(PacketError::Truncated);
        }
        let covered_end = body.len() - code_len;
        let expected = crypto::integrity_code(keys.suite.integ, &keys.k1, &body[..covered_end]);
        if !crypto::codes_equal(&expected, &body[covered_end..]) {
            return Err(PacketError::BadIntegrity);
        }
        let pad_len = body[covered_end - 2] as usize;
        if pad_len > 3 || trailer.len() != pad_len + 2 + code_len {
            return Err(PacketError::BadPadding);
        }
    }

    let raw = &rest[payload_start..payload_end];
    let payload = if encrypted {
        let keys = keys.ok_or(PacketError::BadPadding)?;
        if keys.suite.conf != ConfAlg::AesCbc128 || raw.len() < 32 {
            return Err(PacketError::BadPadding);
        }
        let mut iv = [0u8; 16];
        iv.copy_from_slice(&raw[..16]);
        crypto::aes_cbc_decrypt(&keys.k2, &iv, &raw[16..]).ok_or(PacketError::BadPadding)?
    } else {
        raw.to_vec()
    };

    // Inside a session every payload must carry the suite's protection: stripping the flags
    // must not turn a forged packet into an acceptable one.
    if let Some(k) = keys {
        if (k.suite.integ != IntegAlg::None && !authenticated)
            || (k.suite.conf != ConfAlg::None && !encrypted)
        {
            return Err(PacketError::Unprotected);
        }
    }
    Ok(Packet {
        payload_type,
        session_id,
        seq,
        authenticated,
        encrypted,
        payload,
    })
}

/// RMCP+ status codes of session establishment (spec table 13-15).
pub fn status_code_name(code: u8) -> &'static str {
    match code {
        0x00 => "no errors",
        0x01 => "insufficient resources to create a session",
        0x02 => "invalid session ID",
        0x03 => "invalid payload type",
        0x04 => "invalid authentication algorithm",
        0x05 => "invalid integrity algorithm",
        0x06 => "no matching authentication payload",
        0x07 => "no matching integrity payload",
        0x08 => "inactive session ID",
        0x09 => "invalid role",
        0x0a => "unauthorized role or privilege level requested",
        0x0b => "insufficient resources to create a session at the requested role",
        0x0c => "invalid name length",
        0x0d => "unauthorized name",
        0x0e => "unauthorized GUID",
        0x0f => "invalid integrity check value",
        0x10 => "invalid confidentiality algorithm",
        0x11 => "no cipher suite match with proposed security algorithms",
        0x12 => "illegal or unrecognized parameter",
        _ => "unknown RMCP+ status code",
    }
}

/// Open Session Request payload (spec table 13-9).
pub fn open_session_request(
    tag: u8,
    max_privilege: u8,
    console_sid: u32,
    suite: &CipherSuite,
) -> Vec<u8> {
    let mut p = vec![tag, max_privilege & 0x0f, 0, 0];
    p.extend_from_slice(&console_sid.to_le_bytes());
    for (kind, alg) in [
        (0u8, suite.auth as u8),
        (1, suite.integ as u8),
        (2, suite.conf as u8),
    ] {
        p.extend_from_slice(&[kind, 0, 0, 8, alg, 0, 0, 0]);
    }
    p
}

/// What an Open Session Response says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenSessionResponse {
    pub tag: u8,
    pub status: u8,
    pub max_privilege: u8,
    pub console_sid: u32,
    pub bmc_sid: u32,
    pub auth: u8,
    pub integ: u8,
    pub conf: u8,
}

/// Console session ID of a handshake message, 0 when the message stops before it.
fn console_sid_at4(p: &[u8]) -> u32 {
    p.get(4..8)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .unwrap_or(0)
}

/// Parse an Open Session Response. Error responses may be as short as tag + status
/// (ipmi_sim sends just those); their `console_sid` is then 0.
pub fn parse_open_session_response(p: &[u8]) -> Option<OpenSessionResponse> {
    if p.len() < 2 {
        return None;
    }
    let console_sid = console_sid_at4(p);
    if p[1] != 0 {
        return Some(OpenSessionResponse {
            tag: p[0],
            status: p[1],
            max_privilege: 0,
            console_sid,
            bmc_sid: 0,
            auth: 0,
            integ: 0,
            conf: 0,
        });
    }
    if p.len() < 36 || p[12] != 0 || p[20] != 1 || p[28] != 2 {
        return None;
    }
    Some(OpenSessionResponse {
        tag: p[0],
        status: 0,
        max_privilege: p[2] & 0x0f,
        console_sid,
        bmc_sid: u32::from_le_bytes([p[8], p[9], p[10], p[11]]),
        auth: p[16] & 0x3f,
        integ: p[24] & 0x3f,
        conf: p[32] & 0x3f,
    })
}

/// RAKP Message 1 (spec table 13-11).
pub fn rakp1(
    tag: u8,
    bmc_sid: u32,
    console_random: &[u8; 16],
    role: u8,
    username: &[u8],
) -> Vec<u8> {
    let mut p = vec![tag, 0, 0, 0];
    p.extend_from_slice(&bmc_sid.to_le_bytes());
    p.extend_from_slice(console_random);
    p.extend_from_slice(&[role, 0, 0, username.len() as u8]);
    p.extend_from_slice(username);
    p
}

/// RAKP Message 2 (spec table 13-12).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rakp2 {
    pub tag: u8,
    pub status: u8,
    pub console_sid: u32,
    pub bmc_random: [u8; 16],
    pub bmc_guid: [u8; 16],
    pub auth_code: Vec<u8>,
}

pub fn parse_rakp2(p: &[u8]) -> Option<Rakp2> {
    if p.len() < 2 {
        return None;
    }
    let console_sid = console_sid_at4(p);
    if p[1] != 0 {
        return Some(Rakp2 {
            tag: p[0],
            status: p[1],
            console_sid,
            bmc_random: [0; 16],
            bmc_guid: [0; 16],
            auth_code: vec![],
        });
    }
    if p.len() < 40 {
        return None;
    }
    let mut bmc_random = [0u8; 16];
    bmc_random.copy_from_slice(&p[8..24]);
    let mut bmc_guid = [0u8; 16];
    bmc_guid.copy_from_slice(&p[24..40]);
    Some(Rakp2 {
        tag: p[0],
        status: 0,
        console_sid,
        bmc_random,
        bmc_guid,
        auth_code: p[40..].to_vec(),
    })
}

/// RAKP Message 3 (spec table 13-13). A non-zero `status` tells the BMC we give up.
pub fn rakp3(tag: u8, status: u8, bmc_sid: u32, auth_code: &[u8]) -> Vec<u8> {
    let mut p = vec![tag, status, 0, 0];
    p.extend_from_slice(&bmc_sid.to_le_bytes());
    p.extend_from_slice(auth_code);
    p
}

/// RAKP Message 4 (spec table 13-14).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rakp4 {
    pub tag: u8,
    pub status: u8,
    pub console_sid: u32,
    pub icv: Vec<u8>,
}

pub fn parse_rakp4(p: &[u8]) -> Option<Rakp4> {
    if p.len() < 2 || (p[1] == 0 && p.len() < 8) {
        return None;
    }
    Some(Rakp4 {
        tag: p[0],
        status: p[1],
        console_sid: console_sid_at4(p),
        icv: p.get(8..).unwrap_or(&[]).to_vec(),
    })
}

/// The outcome of checking RAKP 2: who is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RakpCheck {
    Ok,
    /// RAKP 2 code mismatch: the BMC does not know our password (or it is not that BMC).
    WrongPassword,
    /// RAKP 4 check value mismatch with a good password: the Kg (BMC key) differs.
    WrongKg,
}

/// Verify RAKP 2's code; returns the code for RAKP 3 on success.
pub fn check_rakp2(
    alg: AuthAlg,
    kuid: &[u8],
    params: &RakpParams,
    rakp2: &Rakp2,
) -> Result<Vec<u8>, RakpCheck> {
    let expected = crypto::rakp2_auth_code(alg, kuid, params);
    if !crypto::codes_equal(&expected, &rakp2.auth_code) {
        return Err(RakpCheck::WrongPassword);
    }
    Ok(crypto::rakp3_auth_code(alg, kuid, params))
}

/// The session keys the RAKP exchange described by `params` yields, and the RAKP 4 check
/// value the BMC must send for it.
pub fn derive_session_keys(
    suite: CipherSuite,
    kg: &[u8],
    params: &RakpParams,
) -> (SessionKeys, Vec<u8>) {
    let sik = crypto::session_integrity_key(suite.auth, kg, params);
    let icv = crypto::rakp4_icv(suite.auth, &sik, params);
    let keys = SessionKeys {
        suite,
        k1: crypto::derive_k(suite.auth, &sik, 0x01),
        k2: crypto::derive_k(suite.auth, &sik, 0x02),
    };
    (keys, icv)
}

/// Derive the session keys and verify RAKP 4 against them.
pub fn finish_rakp4(
    suite: CipherSuite,
    kg: &[u8],
    params: &RakpParams,
    rakp4: &Rakp4,
) -> Result<SessionKeys, RakpCheck> {
    let (keys, icv) = derive_session_keys(suite, kg, params);
    if !crypto::codes_equal(&icv, &rakp4.icv) {
        return Err(RakpCheck::WrongKg);
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(id: u8) -> SessionKeys {
        SessionKeys {
            suite: CipherSuite::by_id(id).expect("suite"),
            k1: vec![0x11; 32],
            k2: vec![0x22; 32],
        }
    }

    #[test]
    fn session_packet_round_trip_all_suites() {
        for id in [0u8, 1, 2, 3, 15, 16, 17] {
            let k = keys(id);
            for len in [0usize, 1, 7, 15, 16, 17, 40] {
                let msg: Vec<u8> = (0..len as u8).collect();
                let pkt = encode_session(&k, 0x1234_5678, 9, &msg, [7; 16]);
                let d = decode(&pkt, Some(&k)).expect("decodes");
                assert_eq!(d.payload, msg, "suite {id} len {len}");
                assert_eq!((d.session_id, d.seq), (0x1234_5678, 9));
                if k.suite.integ != IntegAlg::None {
                    assert_eq!(
                        (pkt.len() - 4 - crypto::integrity_len(k.suite.integ)) % 4,
                        0
                    );
                }
            }
        }
    }

    #[test]
    fn tampered_or_unprotected_packets_are_refused() {
        let k = keys(3);
        let pkt = encode_session(&k, 1, 2, &[1, 2, 3], [0; 16]);
        for i in 4..pkt.len() {
            let mut bad = pkt.clone();
            bad[i] ^= 0x01;
            assert!(decode(&bad, Some(&k)).is_err(), "flip at byte {i} accepted");
        }
        let plain = encode_session(&keys(1), 1, 2, &[1, 2, 3], [0; 16]);
        assert_eq!(decode(&plain, Some(&k)), Err(PacketError::Unprotected));
        let mut other_k1 = k.clone();
        other_k1.k1 = vec![0x99; 20];
        assert_eq!(
            decode(&pkt, Some(&other_k1)),
            Err(PacketError::BadIntegrity)
        );
    }

    #[test]
    fn open_session_request_layout() {
        let suite = CipherSuite::by_id(3).expect("suite 3");
        let p = open_session_request(5, 4, 0xa0b0c0d0, &suite);
        assert_eq!(
            p,
            [
                5, 4, 0, 0, 0xd0, 0xc0, 0xb0, 0xa0, 0, 0, 0, 8, 1, 0, 0, 0, 1, 0, 0, 8, 1, 0, 0, 0,
                2, 0, 0, 8, 1, 0, 0, 0
            ]
        );
    }

    #[test]
    fn short_handshake_messages_are_none() {
        for n in 0..8 {
            assert!(parse_open_session_response(&vec![0; n]).is_none());
            assert!(parse_rakp2(&vec![0; n]).is_none());
            assert!(parse_rakp4(&vec![0; n]).is_none());
        }
        // Short error answers (as ipmi_sim sends them) are understood.
        let r = parse_open_session_response(&[9, 0x04]).expect("short error");
        assert_eq!((r.tag, r.status, r.console_sid), (9, 0x04, 0));
        assert_eq!(parse_rakp4(&[9, 0x0f]).map(|r| r.status), Some(0x0f));
        assert!(parse_rakp2(&[0u8; 39]).is_none());
        assert!(parse_open_session_response(&[0u8; 35]).is_none());
    }
}
