//! Property tests of every decoder that reads bytes from the network: arbitrary datagrams and
//! mutated valid packets never panic, and a tampered protected packet is never accepted with a
//! payload other than the one sent.

use fence_paddock_ipmi::crypto::CipherSuite;
use fence_paddock_ipmi::rmcpplus::{self, SessionKeys};
use fence_paddock_ipmi::{lan15, messages, rmcp};
use proptest::prelude::*;

fn keys(id: u8) -> SessionKeys {
    SessionKeys {
        suite: CipherSuite::by_id(id).expect("suite"),
        k1: vec![0x5a; 32],
        k2: vec![0xa5; 32],
    }
}

fn decode_everything(bytes: &[u8]) {
    let _ = rmcpplus::decode(bytes, None);
    for id in [0u8, 1, 2, 3, 15, 16, 17] {
        let _ = rmcpplus::decode(bytes, Some(&keys(id)));
    }
    let _ = lan15::decode(bytes, None);
    let _ = lan15::decode(bytes, Some(&lan15::password16(b"secret")));
    let _ = messages::decode_response(bytes);
    let _ = rmcp::parse_pong(bytes);
    let _ = rmcpplus::parse_open_session_response(bytes);
    let _ = rmcpplus::parse_rakp2(bytes);
    let _ = rmcpplus::parse_rakp4(bytes);
    let _ = lan15::parse_channel_auth_caps(bytes);
    let _ = lan15::parse_session_challenge(bytes);
    let _ = lan15::parse_activate_session(bytes);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_datagrams_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        decode_everything(&bytes);
    }

    #[test]
    fn rmcpplus_shaped_datagrams_never_panic(
        ptype in any::<u8>(),
        sid in any::<u32>(),
        seq in any::<u32>(),
        len in any::<u16>(),
        rest in proptest::collection::vec(any::<u8>(), 0..120),
    ) {
        let mut d = vec![6, 0, 0xff, 7, 6, ptype];
        d.extend_from_slice(&sid.to_le_bytes());
        d.extend_from_slice(&seq.to_le_bytes());
        d.extend_from_slice(&len.to_le_bytes());
        d.extend_from_slice(&rest);
        decode_everything(&d);
        // Same with a length that fits what follows, so the trailer parsing is reached.
        let fit = (rest.len() as u16).min(len);
        d[14..16].copy_from_slice(&fit.to_le_bytes());
        decode_everything(&d);
    }

    #[test]
    fn tampered_protected_packets_are_refused(
        suite in prop::sample::select(vec![2u8, 3, 16, 17]),
        msg in proptest::collection::vec(any::<u8>(), 0..60),
        iv in any::<[u8; 16]>(),
        flips in proptest::collection::vec((any::<usize>(), 1u8..=255), 1..4),
        cut in any::<usize>(),
        extra in proptest::collection::vec(any::<u8>(), 0..8),
    ) {
        let k = keys(suite);
        let packet = rmcpplus::encode_session(&k, 0x1234, 9, &msg, iv);
        let decoded = rmcpplus::decode(&packet, Some(&k)).expect("own packet decodes");
        prop_assert_eq!(&decoded.payload, &msg);

        let mut bad = packet.clone();
        for (pos, x) in &flips {
            // The RMCP header (bytes 0-3) is outside the integrity check by design; skip it.
            let i = 4 + pos % (bad.len() - 4);
            bad[i] ^= x;
        }
        // Flips landing on one byte can cancel out (0xa4 ^ 0xc3 ^ 0x67 = 0): not a tampering.
        prop_assume!(bad != packet);
        if let Ok(p) = rmcpplus::decode(&bad, Some(&k)) {
            prop_assert!(false, "tampered packet accepted: {:?}", p);
        }
        let truncated = &packet[..cut % packet.len()];
        prop_assert!(rmcpplus::decode(truncated, Some(&k)).is_err());
        if !extra.is_empty() {
            let mut longer = packet.clone();
            longer.extend_from_slice(&extra);
            prop_assert!(rmcpplus::decode(&longer, Some(&k)).is_err());
        }
    }
}
