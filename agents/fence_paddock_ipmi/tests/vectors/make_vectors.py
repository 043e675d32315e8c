#!/usr/bin/env python3
"""Known-answer vectors for fence_paddock_ipmi's crypto (tests/crypto_kat.rs), computed
independently of the Rust code from the IPMI v2.0 definitions (spec §13.28-13.32 and
§22.17 for v1.5 MD5) with python's hmac/hashlib, and AES-128-CBC via the openssl CLI
(`openssl enc -aes-128-cbc -nopad`), which knows nothing about IPMI's padding: the
padding is added here, as the spec defines it.

Run: python3 make_vectors.py   (prints the Rust constants pasted into crypto_kat.rs)
"""
import hashlib
import hmac
import struct
import subprocess

def h(alg, key, data):
    return hmac.new(key, data, alg).digest()

def le32(v):
    return struct.pack("<I", v)

def hexs(b):
    return b.hex()

KUID = b"secret".ljust(20, b"\0")
KG = b"kgsecret".ljust(20, b"\0")
USER = b"admin"
ROLE = 0x14                     # administrator | name-only lookup
SID_M = 0x0A0B0C0D              # remote console session ID
SID_C = 0x01020304              # managed system (BMC) session ID
RM = bytes(range(0x00, 0x10))
RC = bytes(range(0x10, 0x20))
GUID = bytes(range(0xA0, 0xB0))
IV = bytes(range(0x30, 0x40))

def vectors(name, alg, ksize, icv_len):
    rakp2 = h(alg, KUID, le32(SID_M) + le32(SID_C) + RM + RC + GUID + bytes([ROLE, len(USER)]) + USER)
    rakp3 = h(alg, KUID, RC + le32(SID_M) + bytes([ROLE, len(USER)]) + USER)
    sik = h(alg, KUID, RM + RC + bytes([ROLE, len(USER)]) + USER)
    sik_kg = h(alg, KG, RM + RC + bytes([ROLE, len(USER)]) + USER)
    icv = h(alg, sik, RM + le32(SID_C) + GUID)[:icv_len]
    k1 = h(alg, sik, b"\x01" * ksize)
    k2 = h(alg, sik, b"\x02" * ksize)
    print(f"// {name}")
    for k, v in [("RAKP2", rakp2), ("RAKP3", rakp3), ("SIK", sik), ("SIK_KG", sik_kg),
                 ("RAKP4_ICV", icv), ("K1", k1), ("K2", k2)]:
        print(f'const {name}_{k}: &str = "{hexs(v)}";')
    return k1, k2

def ipmi_pad(plain):
    pad = 15 - len(plain) % 16
    return plain + bytes(range(1, pad + 1)) + bytes([pad])

def aes(key16, iv, data):
    out = subprocess.run(["openssl", "enc", "-aes-128-cbc", "-nopad", "-K", hexs(key16), "-iv", hexs(iv)],
                         input=data, capture_output=True, check=True)
    return out.stdout

def session_packet(k1, k2, integ_len, alg, bmc_sid, seq, msg):
    """RMCP + RMCP+ session header, encrypted payload (IV + AES), integrity trailer."""
    payload = IV + aes(k2[:16], IV, ipmi_pad(msg))
    body = bytes([0x06, 0xC0]) + le32(bmc_sid) + le32(seq) + struct.pack("<H", len(payload)) + payload
    pad = (4 - (len(body) + 2) % 4) % 4
    body += b"\xff" * pad + bytes([pad, 0x07])
    return bytes([0x06, 0x00, 0xFF, 0x07]) + body + h(alg, k1, body)[:integ_len]

k1, k2 = vectors("SHA1", hashlib.sha1, 20, 12)
CHASSIS_STATUS = bytes.fromhex("2000e08104017a")
print(f'const AES_PLAIN_7: &str = "{hexs(CHASSIS_STATUS)}";')
print(f'const SHA1_AES_CIPHER_7: &str = "{hexs(aes(k2[:16], IV, ipmi_pad(CHASSIS_STATUS)))}";')
sixteen = bytes(range(0x40, 0x50))
print(f'const AES_PLAIN_16: &str = "{hexs(sixteen)}";')
print(f'const SHA1_AES_CIPHER_16: &str = "{hexs(aes(k2[:16], IV, ipmi_pad(sixteen)))}";')
print(f'const SHA1_INTEG_DATA: &str = "{hexs(b"integrity-covered-bytes")}";')
print(f'const SHA1_INTEG: &str = "{hexs(h(hashlib.sha1, k1, b"integrity-covered-bytes")[:12])}";')
print(f'const SUITE3_PACKET: &str = "{hexs(session_packet(k1, k2, 12, hashlib.sha1, SID_C, 7, CHASSIS_STATUS))}";')
k1, k2 = vectors("SHA256", hashlib.sha256, 32, 16)
print(f'const SHA256_INTEG: &str = "{hexs(h(hashlib.sha256, k1, b"integrity-covered-bytes")[:16])}";')
print(f'const SUITE17_PACKET: &str = "{hexs(session_packet(k1, k2, 16, hashlib.sha256, SID_C, 7, CHASSIS_STATUS))}";')
pw16 = b"secret".ljust(16, b"\0")
md5 = hashlib.md5(pw16 + le32(0x11223344) + CHASSIS_STATUS + le32(5) + pw16).digest()
print(f'const MD5_AUTHCODE: &str = "{hexs(md5)}";')
