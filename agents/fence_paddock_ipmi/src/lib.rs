//! fence_paddock_ipmi: a fence agent speaking IPMI over LAN natively (v2.0 RMCP+ "lanplus",
//! and v1.5 for `lanplus=0`), a drop-in for fence_ipmilan without ipmitool.
//!
//! Layers, each with one job: [`rmcp`] (datagram header), [`messages`] (IPMI message framing),
//! [`crypto`] (RAKP/SIK/K1/K2, integrity, AES), [`rmcpplus`] and [`lan15`] (session packet
//! formats and handshakes), [`transport`] (UDP with retransmission inside a deadline),
//! `handshake` (RMCP+ / v1.5 session establishment), [`session`] (open / request / close), [`chassis`] (power commands) and [`agent`]
//! (options and the stonith framework glue).

pub mod agent;
pub mod chassis;
pub mod crypto;
mod handshake;
pub mod lan15;
pub mod messages;
pub mod rmcp;
pub mod rmcpplus;
pub mod session;
pub mod transport;
