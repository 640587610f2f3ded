"""Envelope encryption: a fresh data key (DEK) per object, wrapped by the keyring.

Two associated-data strings tie a blob to its place:

* the data AAD = magic, format, cipher id, object id, object version. It does not
  mention the wrapping keys, so rotation can re-wrap the DEK without touching
  (or re-encrypting) the ciphertext;
* the wrap AAD = the same plus the key reference (KEK version, subject id), so a
  wrapped DEK cannot be moved to another object, version or key slot.

A blob copied under another object id, replayed as another version, or given a
different cipher id or key reference fails authentication.
"""

from __future__ import annotations

import secrets
import struct

from medveil.crypto import blob
from medveil.crypto.blob import Header, KeyRef
from medveil.crypto.buffers import uninitialized
from medveil.crypto.ciphers import NONCE_SIZE, TAG_SIZE, Aead, Buffer, cipher_named, cipher_with_id
from medveil.crypto.keyring import Keyring

DEFAULT_CIPHER = "aes-256-gcm"


class Envelope:
    """Seals and opens objects with ``cipher`` under keys from ``keyring``."""

    def __init__(self, keyring: Keyring, cipher: str = DEFAULT_CIPHER) -> None:
        self.keyring = keyring
        self.cipher: Aead = cipher_named(cipher)

    def seal(
        self, plaintext: Buffer, *, object_id: str, version: int = 1, subject: str | None = None
    ) -> memoryview:
        """Encrypt ``plaintext`` as a sealed blob for ``object_id``/``version``.

        ``subject`` (a patient pseudonym) puts the DEK under that subject's key so
        :func:`~medveil.crypto.keyring.shred` can destroy it. The result is a
        bytes-like ``memoryview``: the object is encrypted by one call straight
        into its final, non-zero-filled buffer (see :mod:`medveil.crypto.buffers`);
        a ``bytes`` result would cost a full extra copy.
        """
        cipher = self.cipher
        binding = _binding(object_id, version)
        ref = self.keyring.current_ref(subject)
        dek = secrets.token_bytes(cipher.key_size)
        wrapped = self.keyring.wrap(ref, dek, cipher=cipher, aad=_wrap_aad(cipher, ref, binding))
        nonce = secrets.token_bytes(NONCE_SIZE)
        header = Header(cipher.cipher_id, ref, wrapped, nonce).encode()
        out = uninitialized(len(header) + len(plaintext) + TAG_SIZE)
        out[: len(header)] = header
        cipher.encrypt_into(dek, nonce, plaintext, _data_aad(cipher, binding), out[len(header) :])
        return out

    def open(self, sealed: Buffer, *, object_id: str, version: int = 1) -> memoryview:
        """Decrypt a sealed blob; IntegrityError (or a KeyUnavailable subclass) on failure.

        The plaintext comes back as a bytes-like ``memoryview`` for the same reason
        :meth:`seal` returns one.
        """
        header, offset = blob.parse(sealed)
        cipher = cipher_with_id(header.cipher_id)
        binding = _binding(object_id, version)
        dek = self._unwrap(header, cipher, binding)
        body = memoryview(sealed)[offset:]
        return cipher.decrypt(dek, header.nonce, body, _data_aad(cipher, binding))

    def rewrap(self, sealed: Buffer, *, object_id: str, version: int = 1) -> memoryview | None:
        """Re-wrap the DEK under the current KEK version; None when already current.

        Only the header changes; the ciphertext bytes are carried over unchanged,
        so rotation costs one copy of the blob, never a re-encryption.
        """
        header, offset = blob.parse(sealed)
        current = self.keyring.current_version()
        if header.key.kek_version == current:
            return None
        cipher = cipher_with_id(header.cipher_id)
        binding = _binding(object_id, version)
        dek = self._unwrap(header, cipher, binding)
        ref = KeyRef(current, header.key.subject_id)
        wrapped = self.keyring.wrap(ref, dek, cipher=cipher, aad=_wrap_aad(cipher, ref, binding))
        new_header = Header(header.cipher_id, ref, wrapped, header.nonce).encode()
        body = memoryview(sealed)[offset:]
        out = uninitialized(len(new_header) + len(body))
        out[: len(new_header)] = new_header
        out[len(new_header) :] = body
        return out

    def _unwrap(self, header: Header, cipher: Aead, binding: bytes) -> bytes:
        aad = _wrap_aad(cipher, header.key, binding)
        return self.keyring.unwrap(header.key, header.wrapped_dek, cipher=cipher, aad=aad)


def key_ref(sealed: Buffer) -> KeyRef:
    """The key reference in a blob's header (which KEK version, which subject)."""
    return blob.parse(sealed)[0].key


def _binding(object_id: str, version: int) -> bytes:
    encoded = object_id.encode()
    return struct.pack(">H", len(encoded)) + encoded + struct.pack(">Q", version)


def _data_aad(cipher: Aead, binding: bytes) -> bytes:
    return blob.MAGIC + bytes((blob.FORMAT_VERSION, cipher.cipher_id)) + binding


def _wrap_aad(cipher: Aead, ref: KeyRef, binding: bytes) -> bytes:
    return b"MVDK" + bytes((blob.FORMAT_VERSION, cipher.cipher_id)) + ref.encode() + binding
