"""Output buffers for whole objects, allocated without zero-filling.

``bytearray(n)`` zero-fills its memory, which for a 7 MB radiograph costs about
a third of the AES-GCM time itself; the cipher overwrites every byte anyway.
``numpy.empty`` (numpy is already a medveil dependency) hands out memory as is,
so sealing and opening cost one pass over the data, like raw ``cryptography``.
The buffers are returned as ``memoryview`` objects: bytes-like, writable to
files and SQLite, comparable to ``bytes``; call ``bytes()`` only when a real
``bytes`` object is needed.
"""

from __future__ import annotations

import numpy as np


def uninitialized(size: int) -> memoryview:
    """A writable, contiguous ``size``-byte buffer with arbitrary initial content."""
    return np.empty(size, dtype=np.uint8).data
