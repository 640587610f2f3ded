"""The default keyring: key files in a private directory under the home dir.

Layout (directories 0700, files 0600, every file 32 random bytes)::

    keyring/
      digest.key             index key for keyed digests (never rotated: ids stay stable)
      kek/000001.key ...     key-encryption keys, one file per version
      subjects/<id>.key      one key per subject; <id> = keyed digest, not the pseudonym
      shredded/<id>          tombstones of crypto-shredded subjects (empty files)

A DEK is wrapped under ``HKDF-SHA256(KEK_v || subject key)``, so reading a
subject's data needs both its key and a live KEK version: shredding the subject
key or retiring the KEK version each makes the wrapped DEK useless.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from medveil.crypto.blob import SUBJECT_ID_SIZE, KeyRef
from medveil.crypto.ciphers import NONCE_SIZE, TAG_SIZE, Aead, Buffer
from medveil.crypto.errors import KeyDestroyed, KeyUnavailable
from medveil.crypto.files import destroy_file, ensure_private_dir, write_private_file

KEY_SIZE = 32
_KEK_NAME = re.compile(r"^(\d{6})\.key$")
_WRAP_SALT = b"medveil/wrap/v1"


class LocalKeyring:
    """Keys as files under ``path`` (normally ``home / "keyring"``)."""

    def __init__(self, path: Path) -> None:
        self.path = ensure_private_dir(path)
        self._kek_dir = ensure_private_dir(path / "kek")
        self._subject_dir = ensure_private_dir(path / "subjects")
        self._tomb_dir = ensure_private_dir(path / "shredded")
        self._digest_key = self._load_or_create(path / "digest.key")
        self._paths: dict[tuple[Path, str], Path] = {}
        if not self.versions():
            write_private_file(self._kek_path(1), secrets.token_bytes(KEY_SIZE), exclusive=True)
        # In-memory caches. Each use first re-checks (with a stat or two) that the key
        # files behind an entry still exist and the subject has no tombstone, so a shred
        # or retire done by another process takes effect here at once.
        self._current: int | None = None
        self._subject_ids: dict[str, bytes] = {}
        self._wrap_keys: dict[tuple[KeyRef, int], bytes] = {}

    # -- identifiers -------------------------------------------------------------------------

    def subject_id(self, subject: str) -> bytes:
        sid = self._subject_ids.get(subject)
        if sid is None:
            sid = self.keyed_digest("subject", subject.encode())[:SUBJECT_ID_SIZE]
            self._subject_ids[subject] = sid
        return sid

    def keyed_digest(self, purpose: str, data: Buffer) -> bytes:
        mac = hmac.new(self._digest_key, purpose.encode() + b"\x00", hashlib.sha256)
        mac.update(data)
        return mac.digest()

    # -- KEK versions ------------------------------------------------------------------------

    def versions(self) -> list[int]:
        found = (_KEK_NAME.match(name) for name in os.listdir(self._kek_dir))
        return sorted(int(m.group(1)) for m in found if m)

    def current_version(self) -> int:
        # Kept while its key file exists: a rotation made by another process is picked
        # up when this keyring is next opened (the older version stays valid until
        # retired), a retirement at once.
        if self._current is None or not os.path.exists(self._kek_path(self._current)):
            self._current = self.versions()[-1]
        return self._current

    def rotate(self) -> int:
        while True:
            version = self.versions()[-1] + 1
            key = secrets.token_bytes(KEY_SIZE)
            if write_private_file(self._kek_path(version), key, exclusive=True):
                self._current = version
                return version

    def retire(self, version: int) -> None:
        if version >= self.versions()[-1]:
            raise ValueError("refusing to retire the current KEK version")
        destroy_file(self._kek_path(version))
        self._wrap_keys = {k: v for k, v in self._wrap_keys.items() if k[0].kek_version != version}

    # -- subjects ----------------------------------------------------------------------------

    def current_ref(self, subject: str | None) -> KeyRef:
        version = self.current_version()
        if subject is None:
            return KeyRef(version)
        sid = self.subject_id(subject)
        if os.path.exists(self._tombstone(sid)):
            raise KeyDestroyed("this subject was crypto-shredded; refusing to seal new data")
        path = self._subject_path(sid)
        if not os.path.exists(path):
            write_private_file(path, secrets.token_bytes(KEY_SIZE), exclusive=True)
        return KeyRef(version, sid)

    def shred(self, subject: str) -> bool:
        sid = self.subject_id(subject)
        # Tombstone first: if we crash after it, the subject reads as shredded, never as
        # "key lost", and no new key can be created for it.
        write_private_file(self._tombstone(sid), b"", exclusive=True)
        self._wrap_keys = {k: v for k, v in self._wrap_keys.items() if k[0].subject_id != sid}
        return destroy_file(self._subject_path(sid))

    # -- wrapping ----------------------------------------------------------------------------

    def wrap(self, ref: KeyRef, dek: bytes, *, cipher: Aead, aad: bytes) -> bytes:
        # ``ref`` was just checked by current_ref (seal) or by unwrapping (rewrap), so a
        # cached wrapping key is used without checking the key files a second time.
        key = self._wrap_keys.get((ref, cipher.cipher_id)) or self._wrap_key(ref, cipher)
        nonce = secrets.token_bytes(NONCE_SIZE)
        out = bytearray(NONCE_SIZE + len(dek) + TAG_SIZE)
        out[:NONCE_SIZE] = nonce
        cipher.encrypt_into(key, nonce, dek, aad, memoryview(out)[NONCE_SIZE:])
        return bytes(out)

    def unwrap(self, ref: KeyRef, wrapped: bytes, *, cipher: Aead, aad: bytes) -> bytes:
        key = self._wrap_key(ref, cipher)
        return bytes(cipher.decrypt(key, wrapped[:NONCE_SIZE], wrapped[NONCE_SIZE:], aad))

    def _wrap_key(self, ref: KeyRef, cipher: Aead) -> bytes:
        """The wrapping key for ``ref``, after checking its key files are still there."""
        kek_path = self._kek_path(ref.kek_version)
        subject_path = None
        if ref.subject_id is not None:
            if os.path.exists(self._tombstone(ref.subject_id)):
                raise KeyDestroyed("the subject's key was crypto-shredded")
            subject_path = self._subject_path(ref.subject_id)
        cached = self._wrap_keys.get((ref, cipher.cipher_id))
        still_there = os.path.exists(kek_path) and (
            subject_path is None or os.path.exists(subject_path)
        )
        if cached is not None and still_there:
            return cached
        material = self._read(kek_path, f"KEK version {ref.kek_version}")
        if subject_path is not None:
            material += self._read(subject_path, "subject key")
        key = HKDF(
            algorithm=hashes.SHA256(),
            length=cipher.key_size,
            salt=_WRAP_SALT,
            info=cipher.name.encode() + ref.encode(),
        ).derive(material)
        self._wrap_keys[(ref, cipher.cipher_id)] = key
        return key

    # -- files -------------------------------------------------------------------------------

    # Paths are built once and remembered: every seal and open checks a few of them,
    # and building Path objects costs more than the stat calls themselves.

    def _kek_path(self, version: int) -> Path:
        return self._path(self._kek_dir, f"{version:06d}.key")

    def _subject_path(self, sid: bytes) -> Path:
        return self._path(self._subject_dir, f"{sid.hex()}.key")

    def _tombstone(self, sid: bytes) -> Path:
        return self._path(self._tomb_dir, sid.hex())

    def _path(self, directory: Path, name: str) -> Path:
        key = (directory, name)
        path = self._paths.get(key)
        if path is None:
            path = self._paths[key] = directory / name
        return path

    @staticmethod
    def _read(path: Path, what: str) -> bytes:
        try:
            key = path.read_bytes()
        except FileNotFoundError:
            raise KeyUnavailable(f"{what} is not in the keyring") from None
        if len(key) != KEY_SIZE:
            raise KeyUnavailable(f"{what} is damaged (expected {KEY_SIZE} bytes)")
        return key

    @staticmethod
    def _load_or_create(path: Path) -> bytes:
        if not path.exists():
            write_private_file(path, secrets.token_bytes(KEY_SIZE), exclusive=True)
        return LocalKeyring._read(path, path.name)
