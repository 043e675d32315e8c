//! The session layer against a real ipmi_sim: every cipher suite it speaks, IPMI 1.5 with each
//! auth type, privilege levels, Kg keys, wrong credentials.

mod common;

use std::time::{Duration, Instant};

use common::Bmc;
use fence_paddock_ipmi::chassis::{self, Control};
use fence_paddock_ipmi::lan15::AuthType;
use fence_paddock_ipmi::session::{Privilege, Protocol, Session, SessionConfig, SessionError};
use stonith::Deadline;

fn cfg(bmc: &Bmc, user: &str, password: &str, protocol: Protocol) -> SessionConfig {
    let mut c = SessionConfig::new("127.0.0.1", bmc.port, user, password.as_bytes());
    c.protocol = protocol;
    c
}

fn deadline() -> Deadline {
    Deadline::after(Duration::from_secs(5))
}

#[test]
fn lanplus_cipher_suites_0_to_3_read_power() {
    let bmc = Bmc::start("suites", &[]);
    for suite in 0..=3u8 {
        let mut s = Session::open(
            &cfg(
                &bmc,
                "admin",
                "secret",
                Protocol::Lanplus {
                    cipher: Some(suite),
                },
            ),
            deadline(),
        )
        .unwrap_or_else(|e| panic!("suite {suite}: {e}"));
        assert_eq!(s.cipher_suite, Some(suite));
        assert!(
            chassis::get_power_on(&mut s, deadline()).expect("status"),
            "suite {suite}: machine is on"
        );
        s.close(deadline());
    }
}

#[test]
fn default_lanplus_uses_suite_3_and_controls_power() {
    let bmc = Bmc::start("ctl", &[]);
    let mut s = Session::open(
        &cfg(&bmc, "admin", "secret", Protocol::Lanplus { cipher: None }),
        deadline(),
    )
    .expect("open");
    assert_eq!(s.cipher_suite, Some(3));
    chassis::control(&mut s, Control::PowerDown, deadline()).expect("power down");
    assert!(
        bmc.wait_power("off", 5),
        "machine still on after power down"
    );
    assert!(!chassis::get_power_on(&mut s, deadline()).expect("status"));
    chassis::control(&mut s, Control::PowerUp, deadline()).expect("power up");
    assert!(bmc.wait_power("on", 5), "machine still off after power up");
    s.close(deadline());
}

#[test]
fn ipmi15_each_auth_type() {
    let bmc = Bmc::start("v15", &[]);
    for auth in [
        None,
        Some(AuthType::Md5),
        Some(AuthType::Password),
        Some(AuthType::None),
    ] {
        let mut s = Session::open(
            &cfg(&bmc, "admin", "secret", Protocol::Lan15 { auth }),
            deadline(),
        )
        .unwrap_or_else(|e| panic!("{auth:?}: {e}"));
        assert_eq!(s.auth_type, Some(auth.unwrap_or(AuthType::Md5)));
        assert!(chassis::get_power_on(&mut s, deadline()).expect("status"));
        s.close(deadline());
    }
}

#[test]
fn wrong_password_fails_fast_with_auth_error() {
    let bmc = Bmc::start("badpw", &[]);
    for protocol in [
        Protocol::Lanplus { cipher: Some(3) },
        Protocol::Lan15 {
            auth: Some(AuthType::Md5),
        },
    ] {
        let started = Instant::now();
        let err = Session::open(
            &cfg(&bmc, "admin", "not-the-password", protocol),
            deadline(),
        )
        .err()
        .expect("refused");
        assert!(matches!(err, SessionError::Auth(_)), "{protocol:?}: {err}");
        assert!(!err.to_string().contains("not-the-password"));
        if matches!(protocol, Protocol::Lanplus { .. }) {
            assert!(
                started.elapsed() < Duration::from_secs(1),
                "took {:?}",
                started.elapsed()
            );
        }
    }
    let err = Session::open(
        &cfg(
            &bmc,
            "nobody",
            "secret",
            Protocol::Lanplus { cipher: Some(3) },
        ),
        deadline(),
    )
    .err()
    .expect("refused");
    assert!(matches!(err, SessionError::Auth(_)), "{err}");
}

#[test]
fn operator_can_control_user_cannot_be_admin() {
    let bmc = Bmc::start("priv", &[]);
    let mut c = cfg(
        &bmc,
        "oper",
        "opsecret",
        Protocol::Lanplus { cipher: Some(3) },
    );
    c.privilege = Privilege::Operator;
    let mut s = Session::open(&c, deadline()).expect("operator session");
    chassis::control(&mut s, Control::PowerDown, deadline()).expect("operator may power down");
    assert!(bmc.wait_power("off", 5));
    s.close(deadline());

    // ipmi_sim enforces a user's privilege limit only in IPMI 1.5 sessions (its RMCP+ code
    // does not check it), so this is checked over lanplus=0.
    let mut c = cfg(&bmc, "oper", "opsecret", Protocol::Lan15 { auth: None });
    c.privilege = Privilege::Administrator;
    let err = Session::open(&c, deadline())
        .err()
        .expect("operator cannot be administrator");
    assert!(matches!(err, SessionError::Auth(_)), "{err}");

    let mut c = cfg(
        &bmc,
        "user",
        "usersecret",
        Protocol::Lanplus { cipher: Some(3) },
    );
    c.privilege = Privilege::User;
    let mut s = Session::open(&c, deadline()).expect("user session");
    assert!(!chassis::get_power_on(&mut s, deadline()).expect("user may read status"));
    let err =
        chassis::control(&mut s, Control::PowerUp, deadline()).expect_err("user may not power up");
    assert!(err.to_string().contains("insufficient privilege"), "{err}");
}

#[test]
fn kg_key_right_and_wrong() {
    let bmc = Bmc::start("kg", &["--kg", "6b67736563726574"]);
    let mut c = cfg(
        &bmc,
        "admin",
        "secret",
        Protocol::Lanplus { cipher: Some(3) },
    );
    c.kg = Some(fence_paddock_ipmi::crypto::parse_hex_kg("6b67736563726574").expect("hex"));
    let mut s = Session::open(&c, deadline()).expect("right Kg");
    assert!(chassis::get_power_on(&mut s, deadline()).expect("status"));
    s.close(deadline());

    c.kg = Some(fence_paddock_ipmi::crypto::parse_hex_kg("00112233").expect("hex"));
    let err = Session::open(&c, deadline())
        .err()
        .expect("wrong Kg refused");
    assert!(err.to_string().contains("Kg"), "{err}");
    c.kg = None;
    let err = Session::open(&c, deadline())
        .err()
        .expect("missing Kg refused");
    assert!(err.to_string().contains("Kg"), "{err}");
}

/// A relay that remembers the BMC's answers and, when the agent later sends a request with the
/// same rqSeq (it wraps every 64 requests), first replays the old answer: a genuine packet of
/// this session, with a valid integrity code, saying what was true back then.
#[test]
fn replayed_old_answers_are_ignored() {
    use std::collections::HashMap;
    use std::net::UdpSocket;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;

    let bmc = Bmc::start("replay", &[]);
    let front = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let back = UdpSocket::bind("127.0.0.1:0").expect("bind");
    back.connect(("127.0.0.1", bmc.port)).expect("connect");
    for s in [&front, &back] {
        s.set_read_timeout(Some(Duration::from_millis(20)))
            .expect("timeout");
    }
    let port = front.local_addr().expect("addr").port();
    let stop = Arc::new(AtomicBool::new(false));
    let replayed = Arc::new(AtomicUsize::new(0));
    let (stop2, replayed2) = (stop.clone(), replayed.clone());
    let relay = std::thread::spawn(move || {
        // Suite 2 (integrity, no encryption): the IPMI message is readable at offset 16.
        // Request: rsAddr netFn chk rqAddr rqSeq cmd; answer: rqAddr netFn chk rsAddr rqSeq cmd cc.
        let mut answers: HashMap<(u8, u8), Vec<u8>> = HashMap::new();
        let mut client = None;
        let mut buf = [0u8; 1024];
        while !stop2.load(Ordering::SeqCst) {
            if let Ok((n, from)) = front.recv_from(&mut buf) {
                client = Some(from);
                let d = &buf[..n];
                if n > 22 && d[5] == 0x40 {
                    let key = (d[16 + 4] >> 2, d[16 + 5]);
                    if let Some(old) = answers.get(&key) {
                        let _ = front.send_to(old, from);
                        replayed2.fetch_add(1, Ordering::SeqCst);
                    }
                }
                let _ = back.send(d);
            }
            while let Ok(n) = back.recv(&mut buf) {
                let d = &buf[..n];
                if n > 22 && d[5] == 0x40 {
                    answers
                        .entry((d[16 + 4] >> 2, d[16 + 5]))
                        .or_insert_with(|| d.to_vec());
                }
                if let Some(to) = client {
                    let _ = front.send_to(d, to);
                }
            }
        }
    });

    let mut c = SessionConfig::new("127.0.0.1", port, "admin", b"secret");
    c.protocol = Protocol::Lanplus { cipher: Some(2) };
    let mut s = Session::open(&c, deadline()).expect("open through the relay");
    // Record "on" answers for every rqSeq, then power off, then ask again for every rqSeq.
    for _ in 0..64 {
        assert!(chassis::get_power_on(&mut s, deadline()).expect("status"));
    }
    chassis::control(&mut s, Control::PowerDown, deadline()).expect("power down");
    assert!(bmc.wait_power("off", 5));
    for i in 0..70 {
        assert!(
            !chassis::get_power_on(&mut s, deadline()).expect("status"),
            "request {i} believed a replayed 'on'"
        );
    }
    s.close(deadline());
    stop.store(true, Ordering::SeqCst);
    let _ = relay.join();
    assert!(
        replayed.load(Ordering::SeqCst) >= 64,
        "the relay replayed too little to prove anything"
    );
}
