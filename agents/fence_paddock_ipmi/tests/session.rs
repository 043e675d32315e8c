//! The session layer against a real ipmi_sim: every cipher suite it speaks, IPMI 1.5 with each
//! auth type, privilege levels, Kg keys, wrong credentials.

mod common;

use std::time::{Duration, Instant};

use common::Bmc;
use paddock_ipmi::chassis::{self, Control};
use paddock_ipmi::lan15::AuthType;
use paddock_ipmi::session::{Privilege, Protocol, Session, SessionConfig, SessionError};
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
    let err = chassis::control(&mut s, Control::PowerUp, deadline())
        .err()
        .expect("user may not power up");
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
    c.kg = Some(paddock_ipmi::crypto::parse_hex_kg("6b67736563726574").expect("hex"));
    let mut s = Session::open(&c, deadline()).expect("right Kg");
    assert!(chassis::get_power_on(&mut s, deadline()).expect("status"));
    s.close(deadline());

    c.kg = Some(paddock_ipmi::crypto::parse_hex_kg("00112233").expect("hex"));
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
