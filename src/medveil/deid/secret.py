"""The pseudonymisation secret: 32 random bytes in a file only its owner can read.

Every pseudonym medveil produces (UIDs, patient IDs, date offsets) is an
HMAC-SHA-256 under this key, so the key *is* the link between original and
de-identified data: whoever holds it can re-identify by brute force over
candidate identifiers. Hence the rules enforced here:

* the file is created atomically (written to a private temporary file, then
  hard-linked into place), so two processes racing to create it agree on one
  key and nobody ever reads a half-written file;
* the file mode is ``0600``; an existing file that group or others can read
  is tightened to ``0600`` with a warning (the warning names the path, never
  the key);
* a file of the wrong size is refused rather than silently replaced, because
  replacing it would break the mapping for every earlier run.

    >>> import tempfile
    >>> from pathlib import Path
    >>> home = Path(tempfile.mkdtemp())
    >>> key = load_or_create_secret(home / "secret.key")
    >>> len(key), oct((home / "secret.key").stat().st_mode & 0o777)
    (32, '0o600')
    >>> load_or_create_secret(home / "secret.key") == key
    True
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import stat
from pathlib import Path

from medveil.errors import UsageError

SECRET_BYTES = 32
_LOG = logging.getLogger(__name__)


def load_or_create_secret(path: Path) -> bytes:
    """Return the key stored at *path*, creating it (mode 0600) when absent.

    Raises :class:`~medveil.errors.UsageError` when the file exists but does
    not hold exactly 32 bytes.
    """
    path = Path(path)
    if not path.exists():
        _create(path)
    return _load(path)


def _create(path: Path) -> None:
    """Write a fresh key next to *path* and link it into place unless one appeared meanwhile."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(SECRET_BYTES))
            handle.flush()
            os.fsync(handle.fileno())
        # link() fails if another process won the race; its key is then the key.
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _load(path: Path) -> bytes:
    """Read the key after making sure only its owner can read it."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        _LOG.warning("secret key file %s was accessible by group/other; mode reset to 0600", path)
        path.chmod(0o600)
    key = path.read_bytes()
    if len(key) != SECRET_BYTES:
        raise UsageError(
            f"secret key file {path} holds {len(key)} bytes, expected {SECRET_BYTES}; "
            "restore the original key (pseudonyms depend on it) or point to another home"
        )
    return key
