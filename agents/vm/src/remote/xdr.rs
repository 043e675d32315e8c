//! XDR (RFC 4506) as libvirt's remote protocol uses it: big-endian 4-byte units, strings and
//! variable opaques as a length then bytes padded to 4, optional values as a bool then the value.

/// Longest string accepted from the daemon (REMOTE_STRING_MAX).
const STRING_MAX: usize = 1 << 20;

#[derive(Default)]
pub struct Encoder {
    buf: Vec<u8>,
}

impl Encoder {
    pub fn new() -> Encoder {
        Encoder::default()
    }
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }
    pub fn i32(&mut self, v: i32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }
    /// A fixed-length opaque (the caller's bytes must already be a multiple of 4 or are padded).
    pub fn fixed_opaque(&mut self, bytes: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(bytes);
        self.pad(bytes.len())
    }
    pub fn string(&mut self, s: &str) -> &mut Self {
        self.u32(s.len() as u32);
        self.buf.extend_from_slice(s.as_bytes());
        self.pad(s.len())
    }
    pub fn optional_string(&mut self, s: Option<&str>) -> &mut Self {
        match s {
            Some(s) => self.u32(1).string(s),
            None => self.u32(0),
        }
    }
    fn pad(&mut self, len: usize) -> &mut Self {
        self.buf.resize(self.buf.len() + (4 - len % 4) % 4, 0);
        self
    }
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}

/// A reply that does not decode: the daemon speaks something else, or the message is cut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

pub struct Decoder<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Decoder<'a> {
    pub fn new(data: &'a [u8]) -> Decoder<'a> {
        Decoder { data, at: 0 }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|end| *end <= self.data.len())
            .ok_or_else(|| DecodeError(format!("reply cut short at byte {}", self.at)))?;
        let bytes = &self.data[self.at..end];
        self.at = end;
        Ok(bytes)
    }
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    pub fn i32(&mut self) -> Result<i32, DecodeError> {
        Ok(self.u32()? as i32)
    }
    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok((u64::from(self.u32()?) << 32) | u64::from(self.u32()?))
    }
    pub fn bool(&mut self) -> Result<bool, DecodeError> {
        match self.u32()? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(DecodeError(format!("{other} is not an XDR boolean"))),
        }
    }
    pub fn fixed_opaque(&mut self, len: usize) -> Result<&'a [u8], DecodeError> {
        let bytes = self.take(len)?;
        self.take((4 - len % 4) % 4)?;
        Ok(bytes)
    }
    pub fn string(&mut self) -> Result<String, DecodeError> {
        let len = self.u32()? as usize;
        if len > STRING_MAX {
            return Err(DecodeError(format!("string of {len} bytes is too long")));
        }
        let bytes = self.fixed_opaque(len)?;
        Ok(String::from_utf8_lossy(bytes).into_owned())
    }
    pub fn optional_string(&mut self) -> Result<Option<String>, DecodeError> {
        if self.bool()? {
            self.string().map(Some)
        } else {
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_padded_to_four_bytes_and_round_trip() {
        let mut e = Encoder::new();
        e.string("vm1")
            .optional_string(None)
            .optional_string(Some("qemu:///system"));
        e.u32(7).i32(-1).fixed_opaque(&[9; 16]);
        let bytes = e.into_bytes();
        assert_eq!(&bytes[..8], &[0, 0, 0, 3, b'v', b'm', b'1', 0]);
        assert_eq!(bytes.len() % 4, 0);
        let mut d = Decoder::new(&bytes);
        assert_eq!(d.string().unwrap(), "vm1");
        assert_eq!(d.optional_string().unwrap(), None);
        assert_eq!(
            d.optional_string().unwrap().as_deref(),
            Some("qemu:///system")
        );
        assert_eq!(d.u32().unwrap(), 7);
        assert_eq!(d.i32().unwrap(), -1);
        assert_eq!(d.fixed_opaque(16).unwrap(), &[9; 16]);
        assert!(d.u32().is_err(), "nothing left");
    }

    #[test]
    fn hostile_lengths_are_errors_not_panics() {
        let mut d = Decoder::new(&[0xff, 0xff, 0xff, 0xff, 1, 2]);
        assert!(d.string().is_err());
        let mut d = Decoder::new(&[0, 0, 0, 9, b'a']);
        assert!(d.string().is_err());
        let mut d = Decoder::new(&[0, 0, 0, 2]);
        assert!(d.bool().is_err());
        let mut d = Decoder::new(&[0, 0, 0, 1, 0, 0, 0, 2]);
        assert_eq!(d.u64().unwrap(), (1 << 32) | 2);
    }
}
