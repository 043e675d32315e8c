//! IPMI LAN message framing (IPMI 2.0 spec §13.8): rsAddr / netFn / checksums / rqSeq around a
//! command, and completion codes with their names.

use std::fmt;

/// The BMC's slave address and our software ID as remote console.
pub const BMC_SLAVE_ADDR: u8 = 0x20;
pub const REMOTE_CONSOLE_SWID: u8 = 0x81;

pub const NETFN_CHASSIS: u8 = 0x00;
pub const NETFN_APP: u8 = 0x06;

/// A request: network function, command and data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub netfn: u8,
    pub cmd: u8,
    pub data: Vec<u8>,
}

impl Request {
    pub fn new(netfn: u8, cmd: u8, data: impl Into<Vec<u8>>) -> Self {
        Request {
            netfn,
            cmd,
            data: data.into(),
        }
    }
}

/// A response as the BMC framed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Response netFn (request netFn + 1).
    pub netfn: u8,
    pub cmd: u8,
    pub rq_seq: u8,
    pub completion: u8,
    pub data: Vec<u8>,
}

/// Two's-complement checksum: the covered bytes plus it sum to zero.
pub fn checksum(bytes: &[u8]) -> u8 {
    bytes
        .iter()
        .fold(0u8, |acc, b| acc.wrapping_add(*b))
        .wrapping_neg()
}

/// Frame a request for the BMC (LUN 0) with sequence number `rq_seq` (6 bits).
pub fn encode_request(req: &Request, rq_seq: u8) -> Vec<u8> {
    let head = [BMC_SLAVE_ADDR, req.netfn << 2];
    let mut out = Vec::with_capacity(7 + req.data.len());
    out.extend_from_slice(&head);
    out.push(checksum(&head));
    let body_start = out.len();
    out.extend_from_slice(&[REMOTE_CONSOLE_SWID, (rq_seq & 0x3f) << 2, req.cmd]);
    out.extend_from_slice(&req.data);
    let sum = checksum(&out[body_start..]);
    out.push(sum);
    out
}

/// Why a message could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageError {
    TooShort(usize),
    BadChecksum,
    NotForUs,
}

impl fmt::Display for MessageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MessageError::TooShort(n) => write!(f, "IPMI message too short ({n} bytes)"),
            MessageError::BadChecksum => f.write_str("IPMI message checksum mismatch"),
            MessageError::NotForUs => f.write_str("IPMI message not addressed to this console"),
        }
    }
}

/// Read a response framed by the BMC: rqAddr, netFn/rqLUN, chk1, rsAddr, rqSeq/rsLUN, cmd, cc, data, chk2.
pub fn decode_response(msg: &[u8]) -> Result<Response, MessageError> {
    if msg.len() < 8 {
        return Err(MessageError::TooShort(msg.len()));
    }
    if checksum(&msg[..2]) != msg[2] || checksum(&msg[3..msg.len() - 1]) != msg[msg.len() - 1] {
        return Err(MessageError::BadChecksum);
    }
    if msg[0] != REMOTE_CONSOLE_SWID {
        return Err(MessageError::NotForUs);
    }
    Ok(Response {
        netfn: msg[1] >> 2,
        cmd: msg[5],
        rq_seq: msg[4] >> 2,
        completion: msg[6],
        data: msg[7..msg.len() - 1].to_vec(),
    })
}

/// The name of a completion code (IPMI 2.0 spec table 5-2).
pub fn completion_code_name(cc: u8) -> &'static str {
    match cc {
        0x00 => "command completed normally",
        0xc0 => "node busy",
        0xc1 => "invalid command",
        0xc2 => "command invalid for given LUN",
        0xc3 => "timeout while processing command",
        0xc4 => "out of space",
        0xc5 => "reservation canceled or invalid",
        0xc6 => "request data truncated",
        0xc7 => "request data length invalid",
        0xc8 => "request data field length limit exceeded",
        0xc9 => "parameter out of range",
        0xca => "cannot return number of requested data bytes",
        0xcb => "requested sensor, data or record not present",
        0xcc => "invalid data field in request",
        0xcd => "command illegal for specified sensor or record type",
        0xce => "command response could not be provided",
        0xcf => "cannot execute duplicated request",
        0xd0 => "SDR repository in update mode",
        0xd1 => "device in firmware update mode",
        0xd2 => "BMC initialization in progress",
        0xd3 => "destination unavailable",
        0xd4 => "insufficient privilege level",
        0xd5 => "command not supported in present state",
        0xd6 => "command sub-function disabled or unavailable",
        0xff => "unspecified error",
        0x01..=0x7e => "OEM completion code",
        0x80..=0xbe => "command-specific completion code",
        _ => "reserved completion code",
    }
}

/// A non-zero completion code, for error messages: `0xd4 (insufficient privilege level)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompletionCode(pub u8);

impl fmt::Display for CompletionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:02x} ({})", self.0, completion_code_name(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_chassis_status_request_bytes() {
        // Hand-checked against IPMI 2.0 §13.8: 20 00 e0 | 81 04 01 7a
        let bytes = encode_request(&Request::new(NETFN_CHASSIS, 0x01, vec![]), 1);
        assert_eq!(bytes, [0x20, 0x00, 0xe0, 0x81, 0x04, 0x01, 0x7a]);
    }

    #[test]
    fn response_round_trip_and_rejections() {
        let mut rsp = vec![0x81, 0x04, 0x00, 0x20, 0x04, 0x01, 0x00, 0x21, 0x10, 0x40];
        rsp[2] = checksum(&rsp[..2]);
        let sum = checksum(&rsp[3..]);
        rsp.push(sum);
        let r = decode_response(&rsp).expect("valid response");
        assert_eq!((r.netfn, r.cmd, r.rq_seq, r.completion), (0x01, 0x01, 1, 0));
        assert_eq!(r.data, [0x21, 0x10, 0x40]);

        let mut bad = rsp.clone();
        bad[8] ^= 1;
        assert_eq!(decode_response(&bad), Err(MessageError::BadChecksum));
        assert_eq!(decode_response(&rsp[..5]), Err(MessageError::TooShort(5)));
    }

    #[test]
    fn completion_names() {
        assert_eq!(
            CompletionCode(0xd4).to_string(),
            "0xd4 (insufficient privilege level)"
        );
        assert_eq!(completion_code_name(0xcc), "invalid data field in request");
    }
}
