"""RFC 9162 Merkle tree hashing, proof generation and proof verification.

Hashing (RFC 9162 section 2.1.1): a leaf hash is SHA-256(0x00 || leaf) and an
interior node is SHA-256(0x01 || left || right); the domain separation keeps a
leaf from being passed off as an interior node. The tree over ``n`` leaves
splits at the largest power of two smaller than ``n``, so it is defined for
every ``n`` without padding.

Proof *generation* is written against a :class:`SubtreeHashes` source (the MTH
of any range that the RFC recursion visits), so the same code serves an
in-memory list in tests and the SQLite node cache of a million-entry log.
Proof *verification* follows the RFC's iterative algorithms (sections 2.1.3.2
and 2.1.4.2) and needs only the proof, never the log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Protocol

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(leaf: bytes) -> bytes:
    """MTH({d}) = SHA-256(0x00 || d)."""
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(size: int) -> int:
    """The largest power of two strictly smaller than ``size`` (``size`` >= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


class SubtreeHashes(Protocol):
    """A source of MTH(D[start:end]) for the ranges the proof recursion asks for."""

    def subtree_hash(self, start: int, end: int) -> bytes: ...


class HashList:
    """Subtree hashes computed from an in-memory list of leaf hashes.

    Used for small trees and as the reference implementation in tests; the
    persistent log uses the stored node cache instead.
    """

    def __init__(self, leaf_hashes: Sequence[bytes]) -> None:
        self._leaves = leaf_hashes

    def subtree_hash(self, start: int, end: int) -> bytes:
        """MTH of ``leaves[start:end]`` by the RFC's recursive definition."""
        size = end - start
        if size == 0:
            return EMPTY_ROOT
        if size == 1:
            return self._leaves[start]
        k = split_point(size)
        return node_hash(self.subtree_hash(start, start + k), self.subtree_hash(start + k, end))


def inclusion_proof(index: int, size: int, hashes: SubtreeHashes) -> list[bytes]:
    """PATH(index, D[size]) of RFC 9162 section 2.1.3.1, leaf-side first."""
    if not 0 <= index < size:
        raise ValueError(f"index {index} is not in a tree of size {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = split_point(end - start)
        if index < start + k:
            path.append(hashes.subtree_hash(start + k, end))
            end = start + k
        else:
            path.append(hashes.subtree_hash(start, start + k))
            start += k
    path.reverse()
    return path


def consistency_proof(old_size: int, new_size: int, hashes: SubtreeHashes) -> list[bytes]:
    """PROOF(old_size, D[new_size]) of RFC 9162 section 2.1.4.1, bottom first."""
    if not 0 < old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to {new_size}")
    proof: list[bytes] = []
    start, end, m, complete = 0, new_size, old_size, True
    while m != end - start:
        k = split_point(end - start)
        if m <= k:
            proof.append(hashes.subtree_hash(start + k, end))
            end = start + k
        else:
            proof.append(hashes.subtree_hash(start, start + k))
            start, m, complete = start + k, m - k, False
    if not complete:
        proof.append(hashes.subtree_hash(start, end))
    proof.reverse()
    return proof


def root_from_inclusion_proof(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes]
) -> bytes | None:
    """The root implied by an inclusion proof, or None if the proof is malformed."""
    if not 0 <= index < size or len(leaf) != HASH_SIZE:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0 or len(p) != HASH_SIZE:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 section 2.1.3.2: is ``leaf`` (a leaf hash) at ``index`` of ``root``?"""
    return root_from_inclusion_proof(index, size, leaf, proof) == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 section 2.1.4.2: is the tree ``old_root`` a prefix of ``new_root``?

    Equal sizes need an empty proof and equal roots; a proof from the empty tree
    proves nothing and is rejected, as is any proof with the wrong length.
    """
    if old_size <= 0 or new_size < old_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if not proof or any(len(p) != HASH_SIZE for p in proof):
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is the seed
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root
