"""The sealed-blob format (version 1): one self-describing, compact byte string.

All integers are big-endian. ``docs/security.md`` has the same table::

    offset  size  field
    0       4     magic b"MVSB"
    4       1     format version (1)
    5       1     cipher id (1 = AES-256-GCM, 2 = SM4-GCM)
    6       1     flags (bit 0: DEK wrapped under a subject key)
    7       4     KEK version
    11      16    subject key id (only when flag bit 0 is set)
    ..      1     length W of the wrapped DEK
    ..      W     wrapped DEK: nonce(12) || AEAD(DEK) || tag(16)
    ..      12    data nonce
    ..      rest  ciphertext || tag(16)

The object id and version are deliberately *not* stored: the caller supplies
them (from its index) and they enter the associated data, so a blob copied
under another id or version fails authentication instead of being served.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from medveil.crypto.ciphers import NONCE_SIZE, TAG_SIZE, Buffer
from medveil.errors import IntegrityError

MAGIC = b"MVSB"
FORMAT_VERSION = 1
SUBJECT_ID_SIZE = 16
FLAG_SUBJECT = 0x01
_FIXED = struct.Struct(">4sBBBI")  # magic, format, cipher id, flags, KEK version


@dataclass(frozen=True)
class KeyRef:
    """Which keys wrap a DEK: a KEK version, optionally mixed with a subject's key."""

    kek_version: int
    subject_id: bytes | None = None

    def encode(self) -> bytes:
        """Flags, KEK version and subject id as they appear in a header (also AAD)."""
        flags = FLAG_SUBJECT if self.subject_id is not None else 0
        return struct.pack(">BI", flags, self.kek_version) + (self.subject_id or b"")


@dataclass(frozen=True)
class Header:
    """Everything in a sealed blob before the ciphertext."""

    cipher_id: int
    key: KeyRef
    wrapped_dek: bytes
    nonce: bytes

    def encode(self) -> bytes:
        """The header bytes; ``len(encode())`` is where the ciphertext starts."""
        if len(self.wrapped_dek) > 255:
            raise ValueError("wrapped DEK too long for the v1 format")
        return b"".join(
            (
                MAGIC,
                bytes((FORMAT_VERSION, self.cipher_id)),
                self.key.encode(),
                bytes((len(self.wrapped_dek),)),
                self.wrapped_dek,
                self.nonce,
            )
        )


def parse(sealed: Buffer) -> tuple[Header, int]:
    """Split a sealed blob into its header and the offset of ciphertext||tag.

    Raises IntegrityError for anything that is not a well-formed v1 blob, so a
    truncated or foreign file is reported as corrupt rather than crashing.
    """
    view = memoryview(sealed)
    if len(view) < _FIXED.size:
        raise IntegrityError("not a sealed blob (too short)")
    magic, fmt, cipher_id, flags, kek_version = _FIXED.unpack_from(view)
    if magic != MAGIC:
        raise IntegrityError("not a sealed blob (bad magic)")
    if fmt != FORMAT_VERSION:
        raise IntegrityError(f"unsupported sealed-blob format version {fmt}")
    if flags & ~FLAG_SUBJECT:
        raise IntegrityError(f"unknown sealed-blob flags {flags:#x}")
    pos = _FIXED.size
    subject_id = None
    if flags & FLAG_SUBJECT:
        subject_id = bytes(view[pos : pos + SUBJECT_ID_SIZE])
        pos += SUBJECT_ID_SIZE
    if len(view) < pos + 1:
        raise IntegrityError("sealed blob truncated in its header")
    wrapped_len = view[pos]
    pos += 1
    end_of_header = pos + wrapped_len + NONCE_SIZE
    if len(view) < end_of_header + TAG_SIZE:
        raise IntegrityError("sealed blob truncated")
    header = Header(
        cipher_id=cipher_id,
        key=KeyRef(kek_version, subject_id),
        wrapped_dek=bytes(view[pos : pos + wrapped_len]),
        nonce=bytes(view[pos + wrapped_len : end_of_header]),
    )
    return header, end_of_header
