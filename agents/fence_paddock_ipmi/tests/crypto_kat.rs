//! Known-answer tests of the IPMI v2.0 crypto against vectors computed independently from the
//! spec's definitions by tests/vectors/make_vectors.py (python hmac/hashlib, AES via the
//! openssl CLI with IPMI's padding added by the script). Suite 17 (SHA256) cannot be exercised
//! against ipmi_sim, so these vectors are its check.
//!
//! Fixed inputs (same as the script): Kuid = "secret", Kg = "kgsecret" (both zero-padded to 20
//! bytes), user "admin", role 0x14, SIDm 0x0a0b0c0d, SIDc 0x01020304, Rm = 00..0f,
//! Rc = 10..1f, GUIDc = a0..af, IV = 30..3f.

use fence_paddock_ipmi::crypto::{self, AuthAlg, CipherSuite, IntegAlg, RakpParams};
use fence_paddock_ipmi::rmcpplus::{self, SessionKeys};

// SHA1
const SHA1_RAKP2: &str = "bfaea0a784e1973ff59998a42a96b96a75f03151";
const SHA1_RAKP3: &str = "00640f9bf2be8ef915dc41871d69e07515329d81";
const SHA1_SIK: &str = "a39ae2b160a1e5efe017ffd6ec1a4ff8eeac6f54";
const SHA1_SIK_KG: &str = "d77174ae01bf5cb2f5660f7d6a0f3872256eb5ff";
const SHA1_RAKP4_ICV: &str = "9c9f0bb735e08f2829e133b3";
const SHA1_K1: &str = "58dbc1afa00eb3f9487c9eaef0dc7892cc43e496";
const SHA1_K2: &str = "8bd9b8ce0674b5d745ced91e728ac1a51464fcaf";
const AES_PLAIN_7: &str = "2000e08104017a";
const SHA1_AES_CIPHER_7: &str = "9ef77ac333651030580f3a141b37e9f3";
const AES_PLAIN_16: &str = "404142434445464748494a4b4c4d4e4f";
const SHA1_AES_CIPHER_16: &str = "6e101fd0a2df6991596734d4c5f6a4e0b9914767911cc5b0d59ce0b30c9956d4";
const SHA1_INTEG_DATA: &str = "696e746567726974792d636f76657265642d6279746573";
const SHA1_INTEG: &str = "c3609dedbbffa705cf2d849d";
const SUITE3_PACKET: &str = "0600ff0706c004030201070000002000303132333435363738393a3b3c3d3e3f9ef77ac333651030580f3a141b37e9f3ffff0207f1339af29c730b10e5c61535";
// SHA256
const SHA256_RAKP2: &str = "2c3d8c3841004801f9fccba272667337248a86e6ae7676be7c4e0a897ce812b1";
const SHA256_RAKP3: &str = "c2f903c899345d19330710312a2b57d09e3dafb47b471ae895562797913e1e01";
const SHA256_SIK: &str = "0c4b7464110cf18fd94ec46aa0242c66ab06157709c02ea7db1653aac04b1023";
const SHA256_SIK_KG: &str = "b93ec6cdc93159ae7e0e8b7a278f1a8e1e04c5082d01a0f5155d988d021257d9";
const SHA256_RAKP4_ICV: &str = "5c100b10d65e7e0de9769c8ccb1d7187";
const SHA256_K1: &str = "6156285b8edfe6df8bb994483a8a76c26b587a3fc6c0b5ec6b2d7ad1fb4f5d35";
const SHA256_K2: &str = "af7f7d6eea3e7abc029e14501226c23db32ca4c78ac2f2c384a28680b6648503";
const SHA256_INTEG: &str = "4ff93cb9fd5fe9f7889f884691c9463f";
const SUITE17_PACKET: &str = "0600ff0706c004030201070000002000303132333435363738393a3b3c3d3e3fb211221953a796854c028fd3a8eb7fd6ffff02071646f76a7b01c385f5ae32c55c47be7c";
const MD5_AUTHCODE: &str = "47310618a7261fa030b37b969ef43dd1";

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn seq(from: u8) -> [u8; 16] {
    std::array::from_fn(|i| from + i as u8)
}

fn params() -> RakpParams<'static> {
    RakpParams {
        console_sid: 0x0a0b0c0d,
        bmc_sid: 0x01020304,
        console_random: seq(0x00),
        bmc_random: seq(0x10),
        bmc_guid: seq(0xa0),
        role: 0x14,
        username: b"admin",
    }
}

struct Family {
    alg: AuthAlg,
    rakp2: &'static str,
    rakp3: &'static str,
    sik: &'static str,
    sik_kg: &'static str,
    icv: &'static str,
    k1: &'static str,
    k2: &'static str,
}

const FAMILIES: [Family; 2] = [
    Family {
        alg: AuthAlg::HmacSha1,
        rakp2: SHA1_RAKP2,
        rakp3: SHA1_RAKP3,
        sik: SHA1_SIK,
        sik_kg: SHA1_SIK_KG,
        icv: SHA1_RAKP4_ICV,
        k1: SHA1_K1,
        k2: SHA1_K2,
    },
    Family {
        alg: AuthAlg::HmacSha256,
        rakp2: SHA256_RAKP2,
        rakp3: SHA256_RAKP3,
        sik: SHA256_SIK,
        sik_kg: SHA256_SIK_KG,
        icv: SHA256_RAKP4_ICV,
        k1: SHA256_K1,
        k2: SHA256_K2,
    },
];

#[test]
fn rakp_codes_sik_and_k1_k2() {
    let kuid = crypto::key20(b"secret");
    let kg = crypto::key20(b"kgsecret");
    let p = params();
    for f in FAMILIES {
        assert_eq!(
            crypto::rakp2_auth_code(f.alg, &kuid, &p),
            unhex(f.rakp2),
            "{:?} RAKP2",
            f.alg
        );
        assert_eq!(
            crypto::rakp3_auth_code(f.alg, &kuid, &p),
            unhex(f.rakp3),
            "{:?} RAKP3",
            f.alg
        );
        let sik = crypto::session_integrity_key(f.alg, &kuid, &p);
        assert_eq!(sik, unhex(f.sik), "{:?} SIK", f.alg);
        assert_eq!(
            crypto::session_integrity_key(f.alg, &kg, &p),
            unhex(f.sik_kg),
            "{:?} SIK with Kg",
            f.alg
        );
        assert_eq!(
            crypto::rakp4_icv(f.alg, &sik, &p),
            unhex(f.icv),
            "{:?} RAKP4 ICV",
            f.alg
        );
        assert_eq!(
            crypto::derive_k(f.alg, &sik, 1),
            unhex(f.k1),
            "{:?} K1",
            f.alg
        );
        assert_eq!(
            crypto::derive_k(f.alg, &sik, 2),
            unhex(f.k2),
            "{:?} K2",
            f.alg
        );
    }
}

#[test]
fn kg_from_hex_is_zero_padded_like_ipmitool() {
    assert_eq!(
        crypto::parse_hex_kg("6b67736563726574").expect("hex"),
        crypto::key20(b"kgsecret")
    );
    assert_eq!(
        crypto::parse_hex_kg("0x6B67736563726574").expect("hex"),
        crypto::key20(b"kgsecret")
    );
    for bad in ["", "6", "zz", &"00".repeat(21)] {
        assert!(crypto::parse_hex_kg(bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn aes_cbc_with_ipmi_padding() {
    let k2 = unhex(SHA1_K2);
    let iv = seq(0x30);
    for (plain, cipher) in [
        (AES_PLAIN_7, SHA1_AES_CIPHER_7),
        (AES_PLAIN_16, SHA1_AES_CIPHER_16),
    ] {
        assert_eq!(
            crypto::aes_cbc_encrypt(&k2, &iv, &unhex(plain)),
            unhex(cipher)
        );
        assert_eq!(
            crypto::aes_cbc_decrypt(&k2, &iv, &unhex(cipher)),
            Some(unhex(plain))
        );
    }
    // Wrong key: the padding check fails (or, rarely, yields other bytes) — never the plaintext.
    assert_ne!(
        crypto::aes_cbc_decrypt(&unhex(SHA256_K2), &iv, &unhex(SHA1_AES_CIPHER_7)),
        Some(unhex(AES_PLAIN_7))
    );
    assert_eq!(crypto::aes_cbc_decrypt(&k2, &iv, &[0u8; 15]), None);
}

#[test]
fn integrity_codes_sha1_96_and_sha256_128() {
    let data = unhex(SHA1_INTEG_DATA);
    assert_eq!(
        crypto::integrity_code(IntegAlg::HmacSha1_96, &unhex(SHA1_K1), &data),
        unhex(SHA1_INTEG)
    );
    assert_eq!(
        crypto::integrity_code(IntegAlg::HmacSha256_128, &unhex(SHA256_K1), &data),
        unhex(SHA256_INTEG)
    );
}

#[test]
fn whole_session_packets_suites_3_and_17() {
    for (id, k1, k2, packet) in [
        (3u8, SHA1_K1, SHA1_K2, SUITE3_PACKET),
        (17, SHA256_K1, SHA256_K2, SUITE17_PACKET),
    ] {
        let keys = SessionKeys {
            suite: CipherSuite::by_id(id).expect("suite"),
            k1: unhex(k1),
            k2: unhex(k2),
        };
        let built = rmcpplus::encode_session(&keys, 0x01020304, 7, &unhex(AES_PLAIN_7), seq(0x30));
        assert_eq!(built, unhex(packet), "suite {id}");
        let decoded = rmcpplus::decode(&unhex(packet), Some(&keys)).expect("decodes");
        assert_eq!(decoded.payload, unhex(AES_PLAIN_7));
        assert!(decoded.authenticated && decoded.encrypted);
    }
}

#[test]
fn md5_authcode_v15() {
    let pw = fence_paddock_ipmi::lan15::password16(b"secret");
    assert_eq!(
        crypto::md5_authcode(&pw, 0x11223344, &unhex(AES_PLAIN_7), 5).to_vec(),
        unhex(MD5_AUTHCODE)
    );
}
