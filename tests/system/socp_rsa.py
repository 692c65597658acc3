"""Pure-Python (standard library only) RSA for the system tests.

Just enough of RFC 8017 to act as an independent SOCP peer from a raw socket: load a PKCS#8
PEM private key, emit its public key as base64url(DER SubjectPublicKeyInfo), sign with
RSASSA-PSS (SHA-256, MGF1-SHA-256, salt = maximum or 32), verify with salt auto-detection,
RSA-OAEP (SHA-256, MGF1-SHA-256, empty label) encrypt/decrypt, and the canonical JSON of
docs/protocol.md section 4. Slow (a 4096-bit private operation takes tens of milliseconds)
and not constant-time: test keys only, never for real secrets.

Being written independently of libsocp is the point: the server verifying what this module
signs is an interoperability check, not a library talking to itself.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass

_HLEN = 32  # SHA-256


# ---- encodings --------------------------------------------------------------------------------

def b64url(data: bytes) -> str:
    """base64url without padding (the SOCP emitted form)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Accepts base64url or standard base64, with or without padding."""
    t = text.strip().replace("+", "-").replace("/", "_").rstrip("=")
    return base64.urlsafe_b64decode(t + "=" * (-len(t) % 4))


def canonical(payload) -> bytes:
    """docs/protocol.md section 4: sorted keys, no whitespace, non-ASCII as lowercase \\uXXXX."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


# ---- minimal DER ------------------------------------------------------------------------------

def _der_read(data: bytes, pos: int) -> tuple[int, bytes, int]:
    """Reads one TLV at pos: (tag, value, next position)."""
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        n = length & 0x7F
        length = int.from_bytes(data[pos:pos + n], "big")
        pos += n
    return tag, data[pos:pos + length], pos + length


def _der_seq(data: bytes) -> list[tuple[int, bytes]]:
    out, pos = [], 0
    while pos < len(data):
        tag, value, pos = _der_read(data, pos)
        out.append((tag, value))
    return out


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _der_tlv(tag: int, value: bytes) -> bytes:
    return bytes([tag]) + _der_len(len(value)) + value


def _der_int(n: int) -> bytes:
    raw = n.to_bytes(max(1, (n.bit_length() + 8) // 8), "big")  # leading 0 keeps it positive
    return _der_tlv(0x02, raw)


_RSA_ALG_ID = bytes.fromhex("300d06092a864886f70d0101010500")


# ---- keys -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PublicKey:
    n: int
    e: int

    @property
    def bits(self) -> int:
        return self.n.bit_length()

    @property
    def size(self) -> int:
        return (self.bits + 7) // 8

    def der(self) -> bytes:
        rsa_pub = _der_tlv(0x30, _der_int(self.n) + _der_int(self.e))
        return _der_tlv(0x30, _RSA_ALG_ID + _der_tlv(0x03, b"\x00" + rsa_pub))

    def b64url(self) -> str:
        return b64url(self.der())

    def fingerprint_hex(self) -> str:
        return hashlib.sha256(self.der()).hexdigest()

    @staticmethod
    def from_der(der: bytes) -> "PublicKey":
        _, spki, _ = _der_read(der, 0)
        parts = _der_seq(spki)
        bitstring = parts[1][1]
        _, rsa_pub, _ = _der_read(bitstring[1:], 0)
        n, e = (int.from_bytes(v, "big") for _, v in _der_seq(rsa_pub)[:2])
        return PublicKey(n, e)

    @staticmethod
    def from_b64url(text: str) -> "PublicKey":
        return PublicKey.from_der(b64url_decode(text))


@dataclass(frozen=True)
class PrivateKey:
    n: int
    e: int
    d: int
    p: int
    q: int
    dp: int
    dq: int
    qinv: int

    @staticmethod
    def from_pem(pem: str) -> "PrivateKey":
        lines = [ln.strip() for ln in pem.strip().splitlines()]
        if not lines or lines[0] != "-----BEGIN PRIVATE KEY-----":
            raise ValueError("expected an unencrypted PKCS#8 PEM private key")
        der = base64.b64decode("".join(ln for ln in lines if not ln.startswith("-----")))
        _, pkcs8, _ = _der_read(der, 0)
        parts = _der_seq(pkcs8)
        if parts[1][1] != _RSA_ALG_ID[2:]:
            raise ValueError("not an RSA key")
        _, rsa_priv, _ = _der_read(parts[2][1], 0)
        ints = [int.from_bytes(v, "big") for tag, v in _der_seq(rsa_priv)]
        _version, n, e, d, p, q, dp, dq, qinv = ints[:9]
        return PrivateKey(n, e, d, p, q, dp, dq, qinv)

    @property
    def public(self) -> PublicKey:
        return PublicKey(self.n, self.e)

    def _private_op(self, m: int) -> int:
        m1 = pow(m, self.dp, self.p)
        m2 = pow(m, self.dq, self.q)
        h = (self.qinv * (m1 - m2)) % self.p
        return m2 + h * self.q

    # -- RSASSA-PSS --------------------------------------------------------------------------
    def sign(self, message: bytes, salt_len: int | None = None) -> bytes:
        """PSS signature; salt_len None = maximum (478 bytes for RSA-4096)."""
        em_bits = self.n.bit_length() - 1
        em_len = (em_bits + 7) // 8
        if salt_len is None:
            salt_len = em_len - _HLEN - 2
        m_hash = hashlib.sha256(message).digest()
        salt = os.urandom(salt_len)
        h = hashlib.sha256(b"\x00" * 8 + m_hash + salt).digest()
        db = b"\x00" * (em_len - salt_len - _HLEN - 2) + b"\x01" + salt
        masked = bytearray(x ^ y for x, y in zip(db, mgf1(h, em_len - _HLEN - 1)))
        masked[0] &= 0xFF >> (8 * em_len - em_bits)
        em = bytes(masked) + h + b"\xbc"
        s = self._private_op(int.from_bytes(em, "big"))
        return s.to_bytes(self.public.size, "big")

    def sign_payload(self, payload, salt_len: int | None = None) -> str:
        """The transport `sig`: base64url PSS over the canonical payload."""
        return b64url(self.sign(canonical(payload), salt_len))

    # -- RSA-OAEP ----------------------------------------------------------------------------
    def decrypt(self, ciphertext: bytes) -> bytes:
        k = self.public.size
        em = self._private_op(int.from_bytes(ciphertext, "big")).to_bytes(k, "big")
        masked_seed, masked_db = em[1:1 + _HLEN], em[1 + _HLEN:]
        seed = bytes(x ^ y for x, y in zip(masked_seed, mgf1(masked_db, _HLEN)))
        db = bytes(x ^ y for x, y in zip(masked_db, mgf1(seed, k - _HLEN - 1)))
        if em[0] != 0 or db[:_HLEN] != hashlib.sha256(b"").digest():
            raise ValueError("OAEP decoding error")
        sep = db.index(b"\x01", _HLEN)
        if any(db[_HLEN:sep]):
            raise ValueError("OAEP decoding error")
        return db[sep + 1:]


def mgf1(seed: bytes, length: int) -> bytes:
    out = b""
    counter = 0
    while len(out) < length:
        out += hashlib.sha256(seed + counter.to_bytes(4, "big")).digest()
        counter += 1
    return out[:length]


def verify(pub: PublicKey, message: bytes, signature: bytes) -> bool:
    """PSS verification with salt auto-detection (any salt length)."""
    em_bits = pub.n.bit_length() - 1
    em_len = (em_bits + 7) // 8
    if len(signature) != pub.size:
        return False
    s = int.from_bytes(signature, "big")
    if s >= pub.n:
        return False
    em = pow(s, pub.e, pub.n).to_bytes(em_len, "big")
    if em[-1] != 0xBC:
        return False
    masked, h = em[:em_len - _HLEN - 1], em[em_len - _HLEN - 1:-1]
    if masked[0] & ~(0xFF >> (8 * em_len - em_bits)) & 0xFF:
        return False
    db = bytearray(x ^ y for x, y in zip(masked, mgf1(h, len(masked))))
    db[0] &= 0xFF >> (8 * em_len - em_bits)
    try:
        sep = db.index(1)
    except ValueError:
        return False
    if any(db[:sep]):
        return False
    salt = bytes(db[sep + 1:])
    m_hash = hashlib.sha256(message).digest()
    return hashlib.sha256(b"\x00" * 8 + m_hash + salt).digest() == h


def encrypt(pub: PublicKey, plaintext: bytes) -> bytes:
    """RSA-OAEP(SHA-256, MGF1-SHA-256, empty label)."""
    k = pub.size
    if len(plaintext) > k - 2 * _HLEN - 2:
        raise ValueError("plaintext too long for RSA-OAEP")
    db = (hashlib.sha256(b"").digest() + b"\x00" * (k - len(plaintext) - 2 * _HLEN - 2) + b"\x01" +
          plaintext)
    seed = os.urandom(_HLEN)
    masked_db = bytes(x ^ y for x, y in zip(db, mgf1(seed, k - _HLEN - 1)))
    masked_seed = bytes(x ^ y for x, y in zip(seed, mgf1(masked_db, _HLEN)))
    em = b"\x00" + masked_seed + masked_db
    return pow(int.from_bytes(em, "big"), pub.e, pub.n).to_bytes(k, "big")


def content_sig_message(ciphertext: bytes, sender: str, recipient: str, ts: int) -> bytes:
    """What socp signs for a direct message: raw ciphertext || from || to || decimal ts."""
    return ciphertext + sender.encode() + recipient.encode() + str(ts).encode()
