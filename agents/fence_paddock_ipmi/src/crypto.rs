//! IPMI v2.0 cryptographic primitives (IPMI 2.0 spec §13.28–13.32): the RAKP key-exchange
//! authentication codes, the session keys (SIK, K1, K2), message integrity and AES-CBC-128
//! confidentiality with IPMI's own padding. Pure functions: no I/O, no state.

use aes::Aes128;
use cbc::cipher::{block_padding::NoPadding, BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::Sha256;

/// Authentication algorithm of the RAKP exchange (spec table 13-17).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthAlg {
    None = 0,
    HmacSha1 = 1,
    HmacSha256 = 3,
}

/// Integrity algorithm of in-session packets (spec table 13-18).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntegAlg {
    None = 0,
    HmacSha1_96 = 1,
    HmacSha256_128 = 4,
}

/// Confidentiality algorithm of in-session payloads (spec table 13-19).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfAlg {
    None = 0,
    AesCbc128 = 1,
}

/// One of the standard cipher suites (spec table 22-20) this agent speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CipherSuite {
    pub id: u8,
    pub auth: AuthAlg,
    pub integ: IntegAlg,
    pub conf: ConfAlg,
}

/// The supported suites: 0–3 (SHA1 family) and 15–17 (SHA256 family).
pub const SUPPORTED_SUITES: &[CipherSuite] = &[
    CipherSuite {
        id: 0,
        auth: AuthAlg::None,
        integ: IntegAlg::None,
        conf: ConfAlg::None,
    },
    CipherSuite {
        id: 1,
        auth: AuthAlg::HmacSha1,
        integ: IntegAlg::None,
        conf: ConfAlg::None,
    },
    CipherSuite {
        id: 2,
        auth: AuthAlg::HmacSha1,
        integ: IntegAlg::HmacSha1_96,
        conf: ConfAlg::None,
    },
    CipherSuite {
        id: 3,
        auth: AuthAlg::HmacSha1,
        integ: IntegAlg::HmacSha1_96,
        conf: ConfAlg::AesCbc128,
    },
    CipherSuite {
        id: 15,
        auth: AuthAlg::HmacSha256,
        integ: IntegAlg::None,
        conf: ConfAlg::None,
    },
    CipherSuite {
        id: 16,
        auth: AuthAlg::HmacSha256,
        integ: IntegAlg::HmacSha256_128,
        conf: ConfAlg::None,
    },
    CipherSuite {
        id: 17,
        auth: AuthAlg::HmacSha256,
        integ: IntegAlg::HmacSha256_128,
        conf: ConfAlg::AesCbc128,
    },
];

impl CipherSuite {
    pub fn by_id(id: u8) -> Option<CipherSuite> {
        SUPPORTED_SUITES.iter().copied().find(|s| s.id == id)
    }
}

/// Keys are at most 20 bytes in IPMI (passwords and Kg); shorter ones are zero-padded.
pub fn key20(bytes: &[u8]) -> [u8; 20] {
    let mut key = [0u8; 20];
    let n = bytes.len().min(20);
    key[..n].copy_from_slice(&bytes[..n]);
    key
}

fn hmac_sha1(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    // HMAC accepts keys of any length, so new_from_slice cannot fail here.
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(key) else {
        return Vec::new();
    };
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().to_vec()
}

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return Vec::new();
    };
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().to_vec()
}

/// The keyed hash of an authentication algorithm; empty for `AuthAlg::None`.
pub fn auth_hmac(alg: AuthAlg, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    match alg {
        AuthAlg::None => Vec::new(),
        AuthAlg::HmacSha1 => hmac_sha1(key, parts),
        AuthAlg::HmacSha256 => hmac_sha256(key, parts),
    }
}

/// Everything the RAKP exchange hashes, in the spec's naming: m = remote console (us),
/// c = managed system (the BMC).
#[derive(Debug, Clone)]
pub struct RakpParams<'a> {
    pub console_sid: u32,
    pub bmc_sid: u32,
    pub console_random: [u8; 16],
    pub bmc_random: [u8; 16],
    pub bmc_guid: [u8; 16],
    /// Requested role byte as sent in RAKP 1 (privilege | name-only-lookup bit).
    pub role: u8,
    pub username: &'a [u8],
}

/// RAKP 2 key exchange authentication code, HMAC_Kuid(SIDm, SIDc, Rm, Rc, GUIDc, ROLEm, ULENm, UNAMEm).
pub fn rakp2_auth_code(alg: AuthAlg, kuid: &[u8], p: &RakpParams) -> Vec<u8> {
    auth_hmac(
        alg,
        kuid,
        &[
            &p.console_sid.to_le_bytes(),
            &p.bmc_sid.to_le_bytes(),
            &p.console_random,
            &p.bmc_random,
            &p.bmc_guid,
            &[p.role, p.username.len() as u8],
            p.username,
        ],
    )
}

/// RAKP 3 key exchange authentication code, HMAC_Kuid(Rc, SIDm, ROLEm, ULENm, UNAMEm).
pub fn rakp3_auth_code(alg: AuthAlg, kuid: &[u8], p: &RakpParams) -> Vec<u8> {
    auth_hmac(
        alg,
        kuid,
        &[
            &p.bmc_random,
            &p.console_sid.to_le_bytes(),
            &[p.role, p.username.len() as u8],
            p.username,
        ],
    )
}

/// Session Integrity Key, HMAC_Kg(Rm, Rc, ROLEm, ULENm, UNAMEm); Kg is Kuid when no BMC key is set.
pub fn session_integrity_key(alg: AuthAlg, kg: &[u8], p: &RakpParams) -> Vec<u8> {
    auth_hmac(
        alg,
        kg,
        &[
            &p.console_random,
            &p.bmc_random,
            &[p.role, p.username.len() as u8],
            p.username,
        ],
    )
}

/// Length of the RAKP 4 integrity check value: HMAC-SHA1-96 → 12, HMAC-SHA256-128 → 16.
pub fn rakp4_icv_len(alg: AuthAlg) -> usize {
    match alg {
        AuthAlg::None => 0,
        AuthAlg::HmacSha1 => 12,
        AuthAlg::HmacSha256 => 16,
    }
}

/// RAKP 4 integrity check value, HMAC_SIK(Rm, SIDc, GUIDc) truncated.
pub fn rakp4_icv(alg: AuthAlg, sik: &[u8], p: &RakpParams) -> Vec<u8> {
    let mut mac = auth_hmac(
        alg,
        sik,
        &[&p.console_random, &p.bmc_sid.to_le_bytes(), &p.bmc_guid],
    );
    mac.truncate(rakp4_icv_len(alg));
    mac
}

/// Additional keys K1 (integrity) and K2 (confidentiality): HMAC_SIK(constant N × 0x01 / 0x02),
/// N being the hash length.
pub fn derive_k(alg: AuthAlg, sik: &[u8], constant: u8) -> Vec<u8> {
    let n = match alg {
        AuthAlg::None => return vec![0; 20],
        AuthAlg::HmacSha1 => 20,
        AuthAlg::HmacSha256 => 32,
    };
    auth_hmac(alg, sik, &[&vec![constant; n]])
}

/// Length of the AuthCode trailer of an in-session packet.
pub fn integrity_len(alg: IntegAlg) -> usize {
    match alg {
        IntegAlg::None => 0,
        IntegAlg::HmacSha1_96 => 12,
        IntegAlg::HmacSha256_128 => 16,
    }
}

/// The AuthCode of an in-session packet, keyed with K1, over AuthType..NextHeader.
pub fn integrity_code(alg: IntegAlg, k1: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = match alg {
        IntegAlg::None => return Vec::new(),
        IntegAlg::HmacSha1_96 => hmac_sha1(k1, &[data]),
        IntegAlg::HmacSha256_128 => hmac_sha256(k1, &[data]),
    };
    mac.truncate(integrity_len(alg));
    mac
}

/// Constant-time comparison so that a forged code cannot be found byte by byte.
pub fn codes_equal(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// AES-CBC-128 with IPMI's confidentiality trailer: pad bytes 1, 2, 3, … then the pad length,
/// so that the whole is a multiple of 16 (spec §13.29). Returns the ciphertext without the IV.
pub fn aes_cbc_encrypt(k2: &[u8], iv: &[u8; 16], plaintext: &[u8]) -> Vec<u8> {
    let pad_len = 15 - (plaintext.len() % 16);
    let mut buf = Vec::with_capacity(plaintext.len() + pad_len + 1);
    buf.extend_from_slice(plaintext);
    buf.extend((1..=pad_len as u8).collect::<Vec<u8>>());
    buf.push(pad_len as u8);
    let key: [u8; 16] = key16(k2);
    cbc::Encryptor::<Aes128>::new(&key.into(), iv.into()).encrypt_padded_vec_mut::<NoPadding>(&buf)
}

/// Inverse of [`aes_cbc_encrypt`]; `None` when the length or the IPMI padding is wrong.
pub fn aes_cbc_decrypt(k2: &[u8], iv: &[u8; 16], ciphertext: &[u8]) -> Option<Vec<u8>> {
    if ciphertext.is_empty() || !ciphertext.len().is_multiple_of(16) {
        return None;
    }
    let key: [u8; 16] = key16(k2);
    let mut plain = cbc::Decryptor::<Aes128>::new(&key.into(), iv.into())
        .decrypt_padded_vec_mut::<NoPadding>(ciphertext)
        .ok()?;
    let pad_len = *plain.last()? as usize;
    if pad_len > 15 || pad_len + 1 > plain.len() {
        return None;
    }
    let body_len = plain.len() - 1 - pad_len;
    if plain[body_len..plain.len() - 1]
        .iter()
        .enumerate()
        .any(|(i, &b)| b as usize != i + 1)
    {
        return None;
    }
    plain.truncate(body_len);
    Some(plain)
}

/// The AES key is the first 16 bytes of K2.
fn key16(k2: &[u8]) -> [u8; 16] {
    let mut key = [0u8; 16];
    let n = k2.len().min(16);
    key[..n].copy_from_slice(&k2[..n]);
    key
}

/// IPMI v1.5 MD5 AuthCode: MD5(password, session id, message, session sequence, password).
pub fn md5_authcode(password16: &[u8; 16], session_id: u32, msg: &[u8], seq: u32) -> [u8; 16] {
    use md5::{Digest, Md5};
    let mut h = Md5::new();
    h.update(password16);
    h.update(session_id.to_le_bytes());
    h.update(msg);
    h.update(seq.to_le_bytes());
    h.update(password16);
    h.finalize().into()
}

/// Parse a Kg key written in hexadecimal (ipmitool -y): up to 40 hex digits = 20 bytes,
/// zero-padded on the right. An optional 0x prefix is accepted.
pub fn parse_hex_kg(text: &str) -> Result<[u8; 20], String> {
    let t = text.trim();
    let t = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    if t.is_empty() {
        return Err("hexadecimal_kg is empty".into());
    }
    if t.len() > 40 {
        return Err("hexadecimal_kg is longer than 40 hex digits (20 bytes)".into());
    }
    if !t.len().is_multiple_of(2) {
        return Err("hexadecimal_kg must have an even number of hex digits".into());
    }
    let mut key = [0u8; 20];
    for (i, pair) in t.as_bytes().chunks(2).enumerate() {
        let s = std::str::from_utf8(pair)
            .map_err(|_| "hexadecimal_kg is not hexadecimal".to_string())?;
        key[i] = u8::from_str_radix(s, 16)
            .map_err(|_| "hexadecimal_kg is not hexadecimal".to_string())?;
    }
    Ok(key)
}
