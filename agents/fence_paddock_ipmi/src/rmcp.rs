//! RMCP framing (DMTF ASF 2.0 §3.2.2): the 4-byte header in front of every IPMI-over-LAN
//! datagram, and the ASF presence ping / pong used to probe for a BMC.

pub const RMCP_VERSION_1_0: u8 = 0x06;
/// Sequence number 0xFF: "no RMCP ACK", what IPMI always uses.
pub const RMCP_NO_ACK: u8 = 0xff;
pub const CLASS_ASF: u8 = 0x06;
pub const CLASS_IPMI: u8 = 0x07;
const ASF_IANA: [u8; 4] = [0x00, 0x00, 0x11, 0xbe];
const ASF_PING: u8 = 0x80;
const ASF_PONG: u8 = 0x40;

/// The RMCP header of an IPMI datagram.
pub const IPMI_HEADER: [u8; 4] = [RMCP_VERSION_1_0, 0x00, RMCP_NO_ACK, CLASS_IPMI];

/// Strip the RMCP header of an IPMI-class datagram; `None` for anything else.
pub fn ipmi_body(datagram: &[u8]) -> Option<&[u8]> {
    match datagram {
        [RMCP_VERSION_1_0, 0x00, _, class, rest @ ..] if class & 0x1f == CLASS_IPMI => Some(rest),
        _ => None,
    }
}

/// ASF Presence Ping with the given message tag.
pub fn presence_ping(tag: u8) -> Vec<u8> {
    let mut p = vec![RMCP_VERSION_1_0, 0x00, RMCP_NO_ACK, CLASS_ASF];
    p.extend_from_slice(&ASF_IANA);
    p.extend_from_slice(&[ASF_PING, tag, 0x00, 0x00]);
    p
}

/// What a Presence Pong says (ASF 2.0 §3.2.4.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pong {
    pub tag: u8,
    /// Bit 7 of "supported entities": the device speaks IPMI.
    pub ipmi_supported: bool,
}

/// Parse a Presence Pong; `None` for anything else, including a pong for another tag
/// (the caller compares tags).
pub fn parse_pong(datagram: &[u8]) -> Option<Pong> {
    match datagram {
        [RMCP_VERSION_1_0, 0x00, _, CLASS_ASF, i0, i1, i2, i3, ASF_PONG, tag, _, len, data @ ..]
            if [*i0, *i1, *i2, *i3] == ASF_IANA && *len as usize >= 16 && data.len() >= 16 =>
        {
            Some(Pong {
                tag: *tag,
                ipmi_supported: data[8] & 0x80 != 0,
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ping_layout() {
        assert_eq!(
            presence_ping(7),
            [6, 0, 0xff, 6, 0, 0, 0x11, 0xbe, 0x80, 7, 0, 0]
        );
    }

    #[test]
    fn pong_parsed_and_garbage_rejected() {
        let mut pong = vec![6, 0, 0xff, 6, 0, 0, 0x11, 0xbe, 0x40, 9, 0, 16];
        pong.extend_from_slice(&[0, 0, 0x11, 0xbe, 0, 0, 0, 0, 0x81, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            parse_pong(&pong),
            Some(Pong {
                tag: 9,
                ipmi_supported: true
            })
        );
        assert_eq!(parse_pong(&pong[..20]), None);
        assert_eq!(parse_pong(&[]), None);
        assert_eq!(ipmi_body(&pong), None);
        assert_eq!(ipmi_body(&[6, 0, 0xff, 7, 1, 2]), Some(&[1u8, 2][..]));
        assert_eq!(ipmi_body(&[6, 0, 0xff]), None);
    }
}
