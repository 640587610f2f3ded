"""Envelope encryption, keyring, rotation and crypto-shredding.

Every object gets its own random data key (DEK); the DEK is wrapped under a
key-encryption key (KEK) version, mixed with a per-subject key when the object
belongs to a patient, and the result is one self-describing sealed blob (format
in :mod:`medveil.crypto.blob` and ``docs/security.md``).

    >>> import tempfile
    >>> from pathlib import Path
    >>> env = Envelope(LocalKeyring(Path(tempfile.mkdtemp()) / "keyring"))
    >>> sealed = env.seal(b"pixels", object_id="obj-1", subject="MV-0001")
    >>> bytes(env.open(sealed, object_id="obj-1"))
    b'pixels'
"""

from __future__ import annotations

from pathlib import Path

from medveil.crypto.blob import KeyRef
from medveil.crypto.ciphers import CIPHERS
from medveil.crypto.envelope import DEFAULT_CIPHER, Envelope, key_ref
from medveil.crypto.errors import KeyDestroyed, KeyUnavailable
from medveil.crypto.keyring import Keyring, shred
from medveil.crypto.local_keyring import LocalKeyring


def default_keyring(home: Path) -> LocalKeyring:
    """The keyring every command uses: ``home / "keyring"``."""
    return LocalKeyring(home / "keyring")


__all__ = [
    "CIPHERS",
    "DEFAULT_CIPHER",
    "Envelope",
    "KeyDestroyed",
    "KeyRef",
    "KeyUnavailable",
    "Keyring",
    "LocalKeyring",
    "default_keyring",
    "key_ref",
    "shred",
]
