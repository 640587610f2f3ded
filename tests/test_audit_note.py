"""Signed notes and checkpoints: known answers, tampering, witness thresholds."""

from __future__ import annotations

import pytest

from medveil.audit import AuditError, AuditIntegrityError, Checkpoint, Signer, Verifier
from medveil.audit.checkpoint import cosign, open_checkpoint
from medveil.audit.note import add_signature, open_note, sign_note

# Known answers from golang.org/x/mod/sumdb/note's documentation (the reference
# implementation of C2SP signed-note) and from the C2SP signed-note spec itself.
GO_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvq"
    "fqdngotpRZb6KE6RyyBwJnAM=\n"
)
SPEC_VERIFIER = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2O"
    "NncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)


def test_matches_reference_implementation_byte_for_byte() -> None:
    signer = Signer.parse(GO_SIGNER)
    assert signer.encode() == GO_SIGNER
    assert signer.verifier.encode() == GO_VERIFIER
    assert sign_note(GO_TEXT, [signer]) == GO_NOTE
    assert open_note(GO_NOTE, [Verifier.parse(GO_VERIFIER)]).body == GO_TEXT


def test_opens_the_spec_example() -> None:
    verifier = Verifier.parse(SPEC_VERIFIER)
    assert verifier.key_id == 0x530D903A
    assert open_note(SPEC_NOTE, [verifier]).body == "This is an example message.\n"


def test_keys_with_wrong_hash_or_type_are_rejected() -> None:
    with pytest.raises(AuditError):
        Verifier.parse(GO_VERIFIER.replace("c74f20a3", "c74f20a4"))
    with pytest.raises(AuditError):
        Verifier.parse("PeterNeumann+c74f20a3+AhpcAA==")
    with pytest.raises(AuditError):
        Signer.generate("has space")


@pytest.fixture
def log_key() -> Signer:
    return Signer.generate("medveil.invalid/audit/test")


@pytest.fixture
def signed(log_key: Signer) -> str:
    return Checkpoint(origin=log_key.name, size=42, root=bytes(range(32))).sign(log_key)


def test_checkpoint_round_trip(log_key: Signer, signed: str) -> None:
    lines = signed.split("\n")
    assert lines[:3] == [log_key.name, "42", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="]
    assert lines[3] == "" and lines[4].startswith(f"— {log_key.name} ")
    assert open_checkpoint(signed, log_key.verifier) == Checkpoint(
        log_key.name, 42, bytes(range(32))
    )


@pytest.mark.parametrize(
    ("old", "new"),
    [("\n42\n", "\n43\n"), ("AAEC", "AAED"), ("\n\n— ", "\n\n—  "), ("=\n\n", "=\n \n")],
)
def test_altered_body_or_signature_is_rejected(
    log_key: Signer, signed: str, old: str, new: str
) -> None:
    assert old in signed
    with pytest.raises(AuditIntegrityError):
        open_checkpoint(signed.replace(old, new, 1), log_key.verifier)


def test_altered_signature_bytes_are_rejected(log_key: Signer, signed: str) -> None:
    body, _, sig_line = signed.rpartition("— ")
    name, blob = sig_line.rstrip("\n").split(" ")
    flipped = blob[:10] + ("A" if blob[10] != "A" else "B") + blob[11:]
    with pytest.raises(AuditIntegrityError, match="invalid signature"):
        open_checkpoint(f"{body}— {name} {flipped}\n", log_key.verifier)


def test_signature_by_another_key_is_not_trusted(signed: str) -> None:
    stranger = Signer.generate("medveil.invalid/audit/test")
    with pytest.raises(AuditIntegrityError):
        open_checkpoint(signed, stranger.verifier)


def test_witness_threshold(log_key: Signer, signed: str) -> None:
    witnesses = [Signer.generate(f"witness.example/{i}") for i in range(3)]
    trusted = [w.verifier for w in witnesses]
    note = signed
    for witness in witnesses[:2]:
        note = cosign(note, witness, log_key.verifier)
    assert cosign(note, witnesses[0], log_key.verifier) == note  # idempotent
    assert open_checkpoint(note, log_key.verifier, trusted, threshold=2).size == 42
    with pytest.raises(AuditIntegrityError, match="2 valid witness signatures, 3 required"):
        open_checkpoint(note, log_key.verifier, trusted, threshold=3)
    # A cosignature by an untrusted key does not count towards the threshold.
    rogue = add_signature(signed, Signer.generate("witness.example/rogue"))
    with pytest.raises(AuditIntegrityError):
        open_checkpoint(rogue, log_key.verifier, trusted, threshold=1)


def test_witness_refuses_checkpoint_with_bad_log_signature(log_key: Signer, signed: str) -> None:
    with pytest.raises(AuditIntegrityError):
        cosign(signed.replace("\n42\n", "\n41\n"), Signer.generate("w"), log_key.verifier)


def test_checkpoint_from_a_different_origin_is_rejected(log_key: Signer) -> None:
    note = Checkpoint(origin="other.example/log", size=1, root=bytes(32)).sign(log_key)
    with pytest.raises(AuditIntegrityError, match="origin"):
        open_checkpoint(note, log_key.verifier)
