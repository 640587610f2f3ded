"""The watermark key: one secret per medveil home, and the keyed randomness drawn from it.

Everything a detector needs to find a mark (the synchronisation pattern, the
spreading sequences, which tile cell carries which code bit) is derived from
this key, so an image marked under another key, or not marked at all, looks
like noise to the detector. The key lives in ``home/watermark/key`` (mode
0600) and never leaves it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

import numpy as np

KEY_BYTES = 32


def key_path(home: Path) -> Path:
    """Where the watermark key of ``home`` lives."""
    return home / "watermark" / "key"


def load_or_create_key(home: Path) -> bytes:
    """Read the home's watermark key, creating it (32 random bytes, mode 0600) on first use."""
    path = key_path(home)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_bytes()
        if len(key) != KEY_BYTES:
            raise ValueError(
                f"watermark key {path} is damaged (expected {KEY_BYTES} bytes)"
            ) from None
        return key
    key = secrets.token_bytes(KEY_BYTES)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


def keyed_rng(key: bytes, label: str) -> np.random.Generator:
    """A generator seeded by HMAC-SHA256(key, label): independent streams per label."""
    digest = hmac.new(key, f"medveil-watermark/v1/{label}".encode(), hashlib.sha256).digest()
    return np.random.Generator(np.random.PCG64(int.from_bytes(digest, "big")))
