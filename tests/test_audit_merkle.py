"""Merkle hashing and proofs: the published vectors, and our proofs against a reference."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medveil.audit.compact import CompactRange
from medveil.audit.merkle import (
    EMPTY_ROOT,
    HashList,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)
from medveil.audit.subtree import (
    is_valid_subtree,
    verify_subtree_consistency,
    verify_subtree_inclusion,
)

VECTORS = Path(__file__).parent / "data" / "merkle"
VECTOR_FILES = sorted(VECTORS.rglob("*.json"))


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value) if value else b""


def _check_vector(kind: str, case: dict[str, Any]) -> bool:
    proof = [_b64(p) for p in case["proof"] or []]
    if kind == "inclusion":
        return verify_inclusion(
            case["leafIdx"], case["treeSize"], _b64(case["leafHash"]), proof, _b64(case["root"])
        )
    if kind == "consistency":
        return verify_consistency(
            case["size1"], case["size2"], _b64(case["root1"]), _b64(case["root2"]), proof
        )
    if kind == "subtreeinclusion":
        return verify_subtree_inclusion(
            case["leafIdx"],
            case["start"],
            case["end"],
            _b64(case["leafHash"]),
            proof,
            _b64(case["root"]),
        )
    return verify_subtree_consistency(
        case["start"], case["end"], case["size"], proof, _b64(case["root1"]), _b64(case["root2"])
    )


def test_all_vector_kinds_are_present() -> None:
    kinds = {path.relative_to(VECTORS).parts[0] for path in VECTOR_FILES}
    assert kinds == {"inclusion", "consistency", "subtreeinclusion", "subtreeconsistency"}
    assert len(VECTOR_FILES) == 518


@pytest.mark.parametrize(
    "path", VECTOR_FILES, ids=[str(p.relative_to(VECTORS)) for p in VECTOR_FILES]
)
def test_published_vector(path: Path) -> None:
    case = json.loads(path.read_text())
    verified = _check_vector(path.relative_to(VECTORS).parts[0], case)
    assert verified is not case["wantErr"], case["desc"]


def _leaves(count: int) -> list[bytes]:
    return [leaf_hash(f"leaf {i}".encode()) for i in range(count)]


def test_rfc_hashing_of_small_trees() -> None:
    a, b, c = _leaves(3)
    assert HashList([]).subtree_hash(0, 0) == EMPTY_ROOT
    assert HashList([a, b, c]).subtree_hash(0, 3) == node_hash(node_hash(a, b), c)
    assert leaf_hash(b"") == bytes.fromhex(
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )


@given(st.integers(min_value=1, max_value=300), st.data())
def test_inclusion_proofs_verify_and_bind_index_and_leaf(size: int, data: st.DataObject) -> None:
    leaves = _leaves(size)
    tree = HashList(leaves)
    root = tree.subtree_hash(0, size)
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    proof = inclusion_proof(index, size, tree)
    assert verify_inclusion(index, size, leaves[index], proof, root)
    assert not verify_inclusion(index, size, leaf_hash(b"forged"), proof, root)
    if size > 1:
        other = (index + 1) % size
        assert not verify_inclusion(other, size, leaves[index], proof, root)
        assert not verify_inclusion(index, size, leaves[index], proof[:-1], root)


@given(st.integers(min_value=1, max_value=300), st.data())
def test_consistency_proofs_verify_and_detect_rewrites(size: int, data: st.DataObject) -> None:
    leaves = _leaves(size)
    old = data.draw(st.integers(min_value=1, max_value=size))
    tree = HashList(leaves)
    old_root, new_root = tree.subtree_hash(0, old), tree.subtree_hash(0, size)
    proof = consistency_proof(old, size, tree)
    assert verify_consistency(old, size, old_root, new_root, proof)
    rewritten = HashList([leaf_hash(b"rewritten"), *leaves[1:]])
    assert not verify_consistency(old, size, rewritten.subtree_hash(0, old), new_root, proof)


@given(st.integers(min_value=0, max_value=600))
def test_compact_range_matches_recursive_definition(size: int) -> None:
    leaves = _leaves(size)
    nodes: list[tuple[int, int, bytes]] = []
    tree = CompactRange(on_node=lambda level, index, digest: nodes.append((level, index, digest)))
    for leaf in leaves:
        tree.append(leaf)
    reference = HashList(leaves)
    assert tree.root() == reference.subtree_hash(0, size)
    for level, index, digest in nodes:
        width = 1 << level
        assert digest == reference.subtree_hash(index * width, (index + 1) * width)


def test_subtree_validity() -> None:
    assert is_valid_subtree(4, 8) and is_valid_subtree(4, 7) and is_valid_subtree(0, 5)
    assert not is_valid_subtree(2, 6) and not is_valid_subtree(3, 3) and not is_valid_subtree(5, 4)


def test_generation_rejects_impossible_requests() -> None:
    tree = HashList(_leaves(4))
    with pytest.raises(ValueError):
        inclusion_proof(4, 4, tree)
    with pytest.raises(ValueError):
        consistency_proof(0, 4, tree)
