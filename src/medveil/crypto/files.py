"""Durable, private file operations shared by the keyring and the store.

"Durable" means the data survives a crash or power loss once the call returns:
write to a temporary name, fsync the file, rename into place, fsync the
directory. Readers therefore see either the old state or the complete new file,
never a prefix. Files are created 0600 and directories 0700 because they hold
keys or encrypted PHI.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from medveil.crypto.ciphers import Buffer


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) with mode 0700 and make its entry durable."""
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        fsync_dir(path.parent)
    return path


def fsync_dir(path: Path) -> None:
    """Flush a directory's entries (a rename or unlink is only durable after this)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_private_file(
    path: Path, data: Buffer, *, exclusive: bool = False, temp_dir: Path | None = None
) -> bool:
    """Durably write ``data`` to ``path`` (mode 0600); atomically replaces it.

    With ``exclusive`` an existing ``path`` is left untouched and False is
    returned, which lets two processes race to create the same key safely.
    ``temp_dir`` must be on the same file system as ``path``; it defaults to
    ``path``'s directory.
    """
    tmp = (temp_dir or path.parent) / f".{path.name}.{secrets.token_hex(8)}.part"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb", closefd=True) as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if exclusive:
            try:
                os.link(tmp, path)
            except FileExistsError:
                return False
            finally:
                tmp.unlink()
        else:
            os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    fsync_dir(path.parent)
    return True


def destroy_file(path: Path) -> bool:
    """Overwrite a key file with zeros, fsync, unlink it and fsync its directory.

    The overwrite is best effort: copy-on-write file systems, SSD wear levelling
    and backups may keep old blocks, which is why keys belong in an HSM in
    production (see docs/security.md). Returns False when there was no file.
    """
    try:
        fd = os.open(path, os.O_WRONLY)
    except FileNotFoundError:
        return False
    try:
        size = os.fstat(fd).st_size
        os.write(fd, bytes(size))
        os.fsync(fd)
    finally:
        os.close(fd)
    path.unlink()
    fsync_dir(path.parent)
    return True
