"""The AEAD ciphers a sealed blob may use, behind one small interface.

AES-256-GCM (the default) goes through ``AESGCM.encrypt_into``/``decrypt`` so a
whole object is encrypted by one call straight into the output buffer; SM4-GCM
(GB/T 32907 block cipher in GCM mode, RFC 8998) goes through the streaming
``Cipher`` API because ``cryptography`` has no one-shot SM4 AEAD. Both use a
96-bit nonce and a 128-bit tag, so the blob layout is the same for both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from medveil.crypto.buffers import uninitialized
from medveil.errors import IntegrityError, UsageError

NONCE_SIZE = 12
TAG_SIZE = 16

Buffer = bytes | bytearray | memoryview


class Aead(Protocol):
    """One AEAD cipher: fixed key size, 12-byte nonce, 16-byte tag appended."""

    @property
    def name(self) -> str:
        """Lower-case name used on the command line and in the index."""
        ...

    @property
    def cipher_id(self) -> int:
        """The number stored in a blob header."""
        ...

    @property
    def key_size(self) -> int:
        """Key length in bytes."""
        ...

    def encrypt_into(
        self, key: bytes, nonce: bytes, plaintext: Buffer, aad: bytes, out: memoryview
    ) -> None:
        """Write ciphertext||tag (``len(plaintext) + TAG_SIZE`` bytes) into ``out``."""
        ...

    def decrypt(self, key: bytes, nonce: bytes, sealed: Buffer, aad: bytes) -> memoryview:
        """Return the plaintext of ciphertext||tag; IntegrityError if it does not verify.

        On failure nothing is returned, so unauthenticated plaintext never escapes.
        """
        ...


@dataclass(frozen=True)
class AesGcm:
    """AES-256-GCM via OpenSSL's one-shot AEAD (AES-NI/VAES when available)."""

    name: str = "aes-256-gcm"
    cipher_id: int = 1
    key_size: int = 32

    def encrypt_into(
        self, key: bytes, nonce: bytes, plaintext: Buffer, aad: bytes, out: memoryview
    ) -> None:
        AESGCM(key).encrypt_into(nonce, plaintext, aad, out)

    def decrypt(self, key: bytes, nonce: bytes, sealed: Buffer, aad: bytes) -> memoryview:
        if len(sealed) < TAG_SIZE:
            raise IntegrityError("sealed data shorter than the AES-GCM tag")
        out = uninitialized(len(sealed) - TAG_SIZE)
        try:
            AESGCM(key).decrypt_into(nonce, sealed, aad, out)
            return out
        except InvalidTag:
            raise IntegrityError("authentication failed (AES-256-GCM tag mismatch)") from None


@dataclass(frozen=True)
class Sm4Gcm:
    """SM4 in GCM mode (RFC 8998), for deployments that must use Chinese SM ciphers."""

    name: str = "sm4-gcm"
    cipher_id: int = 2
    key_size: int = 16

    def encrypt_into(
        self, key: bytes, nonce: bytes, plaintext: Buffer, aad: bytes, out: memoryview
    ) -> None:
        encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
        encryptor.authenticate_additional_data(aad)
        # update_into needs block_size - 1 spare bytes; the tag's 16 bytes provide them.
        written = encryptor.update_into(plaintext, out)
        encryptor.finalize()  # GCM is a stream mode: nothing is left to flush
        out[written : written + TAG_SIZE] = encryptor.tag

    def decrypt(self, key: bytes, nonce: bytes, sealed: Buffer, aad: bytes) -> memoryview:
        view = memoryview(sealed)
        if len(view) < TAG_SIZE:
            raise IntegrityError("sealed data shorter than the SM4-GCM tag")
        size = len(view) - TAG_SIZE
        mode = modes.GCM(nonce, bytes(view[size:]))
        decryptor = Cipher(algorithms.SM4(key), mode).decryptor()
        decryptor.authenticate_additional_data(aad)
        out = uninitialized(size + 15)  # update_into wants block_size - 1 spare bytes
        written = decryptor.update_into(view[:size], out)
        try:
            decryptor.finalize()  # GCM: checks the tag; a stream mode has no data left
        except InvalidTag:
            raise IntegrityError("authentication failed (SM4-GCM tag mismatch)") from None
        return out[:written]


CIPHERS: dict[str, Aead] = {c.name: c for c in (AesGcm(), Sm4Gcm())}
_BY_ID: dict[int, Aead] = {c.cipher_id: c for c in CIPHERS.values()}


def cipher_named(name: str) -> Aead:
    """The cipher called ``name`` ("aes-256-gcm" or "sm4-gcm"); UsageError otherwise."""
    try:
        return CIPHERS[name.lower()]
    except KeyError:
        raise UsageError(f"unknown cipher {name!r}; choose one of {', '.join(CIPHERS)}") from None


def cipher_with_id(cipher_id: int) -> Aead:
    """The cipher a blob header names by number; IntegrityError for unknown ids."""
    try:
        return _BY_ID[cipher_id]
    except KeyError:
        raise IntegrityError(f"sealed blob names unknown cipher id {cipher_id}") from None
