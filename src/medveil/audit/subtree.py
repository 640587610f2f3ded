"""Subtree inclusion and consistency proof verification (Merkle Tree Certificates).

draft-ietf-plants-merkle-tree-certs generalises RFC 9162 proofs from a tree
prefix ``[0, m)`` to any *subtree* ``[start, end)`` that is a node of some tree:
``start < end`` and ``start`` a multiple of the smallest power of two >= ``end -
start``. medveil's log does not issue these proofs; they are verified here so
the published transparency-dev test vectors can be checked in full, and because
an auditor holding the hash of one complete subtree (a "tile") can check it
against a signed root with them.
"""

from __future__ import annotations

from collections.abc import Sequence

from medveil.audit.merkle import EMPTY_ROOT, HASH_SIZE, node_hash, root_from_inclusion_proof


def is_valid_subtree(start: int, end: int) -> bool:
    """Is ``[start, end)`` a node of some Merkle tree (MTC section 4.1)?"""
    if not 0 <= start < end:
        return False
    width = 1 << (end - start - 1).bit_length()  # smallest power of two >= end - start
    return start % width == 0


def verify_subtree_inclusion(
    index: int, start: int, end: int, leaf: bytes, proof: Sequence[bytes], subtree_root: bytes
) -> bool:
    """Is ``leaf`` (a leaf hash) at ``index`` of the subtree ``[start, end)``?

    A subtree is a complete Merkle tree of its own leaves, so this is the RFC 9162
    check for ``index - start`` in a tree of ``end - start`` leaves.
    """
    if not is_valid_subtree(start, end) or not start <= index < end:
        return False
    return root_from_inclusion_proof(index - start, end - start, leaf, proof) == subtree_root


def verify_subtree_consistency(
    start: int, end: int, size: int, proof: Sequence[bytes], subtree_root: bytes, root: bytes
) -> bool:
    """Is the subtree ``[start, end)`` with hash ``subtree_root`` part of the tree ``root``?

    MTC section 4.4.3: the RFC 9162 consistency walk, starting from the subtree's
    first and last leaf instead of leaf 0 and leaf ``m - 1``. An empty range is
    trivially contained in any tree; it is accepted only with the empty-tree
    hash and no proof, as in the transparency-dev vectors.
    """
    if start == end and 0 <= end <= size:
        return not proof and subtree_root == EMPTY_ROOT
    if not is_valid_subtree(start, end) or end > size:
        return False
    if any(len(p) != HASH_SIZE for p in proof):
        return False
    fn, sn, tn = start, end - 1, size - 1
    if sn == tn:
        while fn != sn:
            fn, sn, tn = fn >> 1, sn >> 1, tn >> 1
    else:
        while fn != sn and sn & 1:
            fn, sn, tn = fn >> 1, sn >> 1, tn >> 1
    rest = list(proof)
    if fn == sn:
        fr = sr = subtree_root
    elif rest:
        fr = sr = rest.pop(0)
    else:
        return False
    for c in rest:
        if tn == 0:
            return False
        if sn & 1 or sn == tn:
            if fn < sn:
                fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not sn & 1 and sn != 0:
                fn, sn, tn = fn >> 1, sn >> 1, tn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn, tn = fn >> 1, sn >> 1, tn >> 1
    return tn == 0 and fr == subtree_root and sr == root
