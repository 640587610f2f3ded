"""C2SP signed notes with Ed25519 keys (https://c2sp.org/signed-note).

A note is UTF-8 text: a body ending in a newline, a blank line, then one line
per signature, ``— <key name> <base64(key hash || signature)>``. The key hash is
the first four bytes of SHA-256(name || 0x0A || 0x01 || public key), 0x01 being
the Ed25519 signature type, so a verifier can pick its key without trying all.
Keys are exchanged as text: the verifier key ``<name>+<hash hex>+<base64(0x01 ||
public key)>`` and the signer key ``PRIVATE+KEY+<name>+<hash hex>+<base64(0x01 ||
seed)>`` (the formats of Go's ``golang.org/x/mod/sumdb/note``), so checkpoints
can be checked with the wider transparency-log tooling.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from medveil.audit.errors import AuditError, AuditIntegrityError

ALG_ED25519 = 0x01
SIGNATURE_PREFIX = "— "  # an em dash and a space
MAX_SIGNATURES = 100
_PRIVATE_PREFIX = "PRIVATE+KEY+"


def _check_name(name: str) -> None:
    if not name or any(c.isspace() or c == "+" for c in name):
        raise AuditError(f"invalid note key name {name!r}: no spaces or '+' allowed")


def key_hash(name: str, public_key: bytes) -> int:
    """The 32-bit key id: SHA-256(name || 0x0A || 0x01 || public key)[:4]."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).digest()
    return int(struct.unpack(">I", digest[:4])[0])


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True)
class Verifier:
    """A named Ed25519 public key that checks note signatures."""

    name: str
    public_key: bytes

    @property
    def key_id(self) -> int:
        """The key hash that prefixes this key's signatures."""
        return key_hash(self.name, self.public_key)

    def verify(self, message: bytes, signature: bytes) -> bool:
        """True if ``signature`` is this key's Ed25519 signature of ``message``."""
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def encode(self) -> str:
        """The verifier key text ``<name>+<hash hex>+<base64(0x01 || public key)>``."""
        blob = base64.b64encode(bytes([ALG_ED25519]) + self.public_key).decode()
        return f"{self.name}+{self.key_id:08x}+{blob}"

    @classmethod
    def parse(cls, text: str) -> Verifier:
        """Parse a verifier key; its embedded hash must match its name and key."""
        name, hash_hex, blob = _split_key(text.strip(), "verifier")
        raw = _decode_key_blob(blob, 33)
        verifier = cls(name=name, public_key=raw[1:])
        if hash_hex != f"{verifier.key_id:08x}":
            raise AuditError(f"verifier key {name!r} has a wrong key hash")
        return verifier


@dataclass(frozen=True)
class Signer:
    """A named Ed25519 private key that signs notes."""

    name: str
    seed: bytes

    @classmethod
    def generate(cls, name: str) -> Signer:
        """A fresh random key with the given name."""
        _check_name(name)
        seed = Ed25519PrivateKey.generate().private_bytes(
            Encoding.Raw, PrivateFormat.Raw, NoEncryption()
        )
        return cls(name=name, seed=seed)

    @property
    def verifier(self) -> Verifier:
        """The matching public verifier."""
        public = _raw_public(Ed25519PrivateKey.from_private_bytes(self.seed).public_key())
        return Verifier(name=self.name, public_key=public)

    def sign(self, message: bytes) -> bytes:
        """The raw Ed25519 signature of ``message``."""
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)

    def encode(self) -> str:
        """The signer key text ``PRIVATE+KEY+<name>+<hash hex>+<base64(0x01 || seed)>``."""
        blob = base64.b64encode(bytes([ALG_ED25519]) + self.seed).decode()
        return f"{_PRIVATE_PREFIX}{self.name}+{self.verifier.key_id:08x}+{blob}"

    @classmethod
    def parse(cls, text: str) -> Signer:
        """Parse a signer key; its embedded hash must match its public key."""
        text = text.strip()
        if not text.startswith(_PRIVATE_PREFIX):
            raise AuditError("not a note signer key (missing PRIVATE+KEY+ prefix)")
        name, hash_hex, blob = _split_key(text[len(_PRIVATE_PREFIX) :], "signer")
        signer = cls(name=name, seed=_decode_key_blob(blob, 33)[1:])
        if hash_hex != f"{signer.verifier.key_id:08x}":
            raise AuditError(f"signer key {name!r} has a wrong key hash")
        return signer


def _split_key(text: str, kind: str) -> tuple[str, str, str]:
    parts = text.split("+", 2)  # the base64 key itself may contain '+'
    if len(parts) != 3 or len(parts[1]) != 8:
        raise AuditError(f"malformed {kind} key")
    _check_name(parts[0])
    return parts[0], parts[1].lower(), parts[2]


def _decode_key_blob(blob: str, length: int) -> bytes:
    try:
        raw = base64.b64decode(blob, validate=True)
    except binascii.Error as exc:
        raise AuditError(f"malformed key: {exc}") from exc
    if len(raw) != length or raw[0] != ALG_ED25519:
        raise AuditError("key is not an Ed25519 note key")
    return raw


@dataclass(frozen=True)
class Signature:
    """One signature line of a note."""

    name: str
    key_id: int
    signature: bytes

    def line(self) -> str:
        """The ``— name base64`` line, newline included."""
        blob = base64.b64encode(struct.pack(">I", self.key_id) + self.signature).decode()
        return f"{SIGNATURE_PREFIX}{self.name} {blob}\n"


@dataclass(frozen=True)
class Note:
    """A parsed note: its body and signatures, those verified listed separately."""

    body: str
    signatures: tuple[Signature, ...]
    verified: tuple[Verifier, ...]

    def text(self) -> str:
        """The full note text (body, blank line, signature lines)."""
        return self.body + "\n" + "".join(sig.line() for sig in self.signatures)


def sign_note(body: str, signers: Iterable[Signer]) -> str:
    """A note of ``body`` signed by every signer in turn."""
    _check_body(body)
    message = body.encode("utf-8")
    lines = [Signature(s.name, s.verifier.key_id, s.sign(message)).line() for s in signers]
    if not lines:
        raise AuditError("a note needs at least one signature")
    return body + "\n" + "".join(lines)


def add_signature(text: str, signer: Signer) -> str:
    """``text`` with one more signature (a witness cosignature) appended.

    Adding a signature already present returns the note unchanged.
    """
    body, signatures = parse_note(text)
    sig = Signature(signer.name, signer.verifier.key_id, signer.sign(body.encode("utf-8")))
    if any((s.name, s.key_id) == (sig.name, sig.key_id) for s in signatures):
        return text
    return Note(body, (*signatures, sig), ()).text()


def _check_body(body: str) -> None:
    if not body.endswith("\n") or "\n\n" in body:
        raise AuditError("note body must end with a newline and contain no blank line")
    if any((ord(c) < 0x20 and c != "\n") or c == "\x7f" for c in body):
        raise AuditError("note body contains control characters")


def parse_note(text: str) -> tuple[str, tuple[Signature, ...]]:
    """Split a note into body and signature lines, rejecting any malformed part."""
    if not text.endswith("\n"):
        raise AuditIntegrityError("malformed note: does not end with a newline")
    split = text.rfind("\n\n")
    if split < 0:
        raise AuditIntegrityError("malformed note: no signature block")
    body, block = text[: split + 1], text[split + 2 :]
    try:
        _check_body(body)
    except AuditError as exc:
        raise AuditIntegrityError(f"malformed note: {exc}") from exc
    signatures: list[Signature] = []
    for line in block.splitlines():
        if not line.startswith(SIGNATURE_PREFIX):
            raise AuditIntegrityError("malformed note: bad signature line")
        name, _, blob = line[len(SIGNATURE_PREFIX) :].partition(" ")
        try:
            raw = base64.b64decode(blob, validate=True)
        except binascii.Error as exc:
            raise AuditIntegrityError("malformed note: signature is not base64") from exc
        if not name or " " in blob or len(raw) < 5:
            raise AuditIntegrityError("malformed note: bad signature line")
        signatures.append(Signature(name, struct.unpack(">I", raw[:4])[0], raw[4:]))
    if not signatures or len(signatures) > MAX_SIGNATURES:
        raise AuditIntegrityError(f"note has {len(signatures)} signatures")
    return body, tuple(signatures)


def open_note(text: str, verifiers: Iterable[Verifier]) -> Note:
    """Parse ``text`` and check its signatures against the known ``verifiers``.

    Signatures by unknown keys are kept but not trusted; a signature that names a
    known key but does not verify rejects the whole note (it was altered). At
    least one known key must have signed.
    """
    body, signatures = parse_note(text)
    known = {(v.name, v.key_id): v for v in verifiers}
    message = body.encode("utf-8")
    verified: list[Verifier] = []
    for sig in signatures:
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            continue
        if not verifier.verify(message, sig.signature):
            raise AuditIntegrityError(f"invalid signature by key {sig.name!r}")
        if verifier not in verified:
            verified.append(verifier)
    if not verified:
        raise AuditIntegrityError("note is not signed by any trusted key")
    return Note(body=body, signatures=signatures, verified=tuple(verified))
