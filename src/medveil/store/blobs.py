"""Sealed blobs as files, addressed by a keyed digest of their plaintext.

Layout under the store directory: ``blobs/<first two hex digits>/<address>``
plus ``tmp/`` for writes in progress (same file system, so the final rename is
atomic). A blob is written to ``tmp/``, fsynced, renamed into place and its
directory fsynced; only then does the store commit the index row. A crash
therefore leaves at most an unreferenced blob or a temp file, never an index
row without its complete blob.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from medveil.crypto.ciphers import Buffer
from medveil.crypto.files import ensure_private_dir, write_private_file
from medveil.errors import IntegrityError

_ADDRESS = re.compile(r"^[0-9a-f]{64}$")


class BlobFiles:
    """The blob directory of one store."""

    def __init__(self, root: Path) -> None:
        self.root = ensure_private_dir(root / "blobs")
        self.tmp = ensure_private_dir(root / "tmp")

    def path(self, address: str) -> Path:
        """Where the blob ``address`` lives (ValueError for a malformed address)."""
        if not _ADDRESS.match(address):
            raise ValueError(f"not a store address: {address!r}")
        return self.root / address[:2] / address

    def write(self, address: str, sealed: Buffer) -> None:
        """Durably write (or atomically replace) a blob."""
        target = self.path(address)
        ensure_private_dir(target.parent)
        write_private_file(target, sealed, temp_dir=self.tmp)

    def read(self, address: str) -> bytes:
        """The sealed bytes of ``address``; IntegrityError when the file is missing."""
        try:
            return self.path(address).read_bytes()
        except FileNotFoundError:
            raise IntegrityError(f"blob {address} is missing") from None

    def exists(self, address: str) -> bool:
        """Whether a blob file is present for ``address``."""
        return self.path(address).is_file()

    def addresses(self) -> Iterator[str]:
        """Every address that has a blob file (indexed or not)."""
        for fanout in sorted(self.root.iterdir()):
            for path in sorted(fanout.iterdir()):
                if _ADDRESS.match(path.name):
                    yield path.name

    def leftover_temps(self) -> list[Path]:
        """Temp files of writes that never finished (crash or kill)."""
        return sorted(self.tmp.iterdir())
