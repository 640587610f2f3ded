"""Streaming Merkle tree hashing over leaf hashes (a compact range).

Appending leaves one by one keeps only the roots of the perfect subtrees that
make up the tree so far (one per set bit of the size), so the root of any prefix
is available in O(log n) memory. ``audit verify`` uses it to rehash a log of
millions of events in one pass; the writer uses the same merge rule to know
which complete nodes each new leaf finishes.
"""

from __future__ import annotations

from collections.abc import Callable

from medveil.audit.merkle import EMPTY_ROOT, node_hash

NodeSink = Callable[[int, int, bytes], None]
"""Called with (level, index, hash) for every complete interior node formed."""


class CompactRange:
    """The perfect-subtree roots of the leaves appended so far, left to right."""

    def __init__(self, on_node: NodeSink | None = None) -> None:
        self._peaks: list[bytes] = []
        self._on_node = on_node
        self.size = 0

    def append(self, leaf_hash: bytes) -> None:
        """Add the next leaf hash, merging every subtree it completes."""
        index, level, current = self.size, 0, leaf_hash
        while index & 1:
            current = node_hash(self._peaks.pop(), current)
            index >>= 1
            level += 1
            if self._on_node is not None:
                self._on_node(level, index, current)
        self._peaks.append(current)
        self.size += 1

    def root(self) -> bytes:
        """MTH of the leaves so far: the peaks folded from the right."""
        if not self._peaks:
            return EMPTY_ROOT
        root = self._peaks[-1]
        for peak in reversed(self._peaks[:-1]):
            root = node_hash(peak, root)
        return root
