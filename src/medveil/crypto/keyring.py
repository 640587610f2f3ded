"""Where key-encryption keys live: the ``Keyring`` protocol and ``shred``.

The protocol is shaped so that the key material never has to leave the
keyring: callers hand it a DEK to wrap or a wrapped DEK to unwrap. A PKCS#11
token (C_WrapKey/C_UnwrapKey with one object per subject) or a Vault transit
engine (derived keys with the subject as context) can implement it without
exporting keys; :class:`~medveil.crypto.local_keyring.LocalKeyring` is the
file-based default.
"""

from __future__ import annotations

from typing import Protocol

from medveil.crypto.blob import KeyRef
from medveil.crypto.ciphers import Aead, Buffer


class Keyring(Protocol):
    """Key-encryption keys (versioned), per-subject keys and a keyed digest."""

    def current_ref(self, subject: str | None) -> KeyRef:
        """The key reference new DEKs are wrapped under (creates a subject key on first use).

        Raises KeyDestroyed for a subject that was shredded: new data for a
        forgotten patient is refused rather than sealed under a fresh key.
        """
        ...

    def wrap(self, ref: KeyRef, dek: bytes, *, cipher: Aead, aad: bytes) -> bytes:
        """Encrypt a DEK under the keys ``ref`` names, bound to ``aad``."""
        ...

    def unwrap(self, ref: KeyRef, wrapped: bytes, *, cipher: Aead, aad: bytes) -> bytes:
        """Recover a DEK; KeyUnavailable/KeyDestroyed/IntegrityError when impossible."""
        ...

    def subject_id(self, subject: str) -> bytes:
        """A 16-byte keyed id of a subject: stable, and meaningless without the keyring."""
        ...

    def keyed_digest(self, purpose: str, data: Buffer) -> bytes:
        """HMAC-SHA256 of ``data`` under a never-rotated index key, separated by purpose."""
        ...

    def current_version(self) -> int:
        """The KEK version new DEKs are wrapped under."""
        ...

    def versions(self) -> list[int]:
        """All KEK versions still held, oldest first."""
        ...

    def rotate(self) -> int:
        """Create a new KEK version, make it current and return it."""
        ...

    def retire(self, version: int) -> None:
        """Destroy an old KEK version (callers first re-wrap everything under it)."""
        ...

    def shred(self, subject: str) -> bool:
        """Destroy a subject's key for good; True if there was one to destroy."""
        ...


def shred(keyring: Keyring, subject: str) -> None:
    """Crypto-shred ``subject``: every blob sealed for it becomes unrecoverable."""
    keyring.shred(subject)
