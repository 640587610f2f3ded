"""Envelope encryption: round trips, tamper/swap rejection, rotation and shredding."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medveil.crypto import Envelope, KeyDestroyed, KeyUnavailable, LocalKeyring, key_ref, shred
from medveil.crypto.ciphers import TAG_SIZE, Sm4Gcm, cipher_named
from medveil.errors import IntegrityError, UsageError

CIPHERS = ["aes-256-gcm", "sm4-gcm"]


@pytest.fixture
def keyring(tmp_path: Path) -> LocalKeyring:
    return LocalKeyring(tmp_path / "keyring")


def test_sm4_gcm_matches_rfc8998_appendix_a_vector() -> None:
    key = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
    nonce = bytes.fromhex("00001234567800000000ABCD")
    aad = bytes.fromhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2")
    plaintext = bytes.fromhex(
        "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD"
        "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA"
    )
    expected = bytes.fromhex(
        "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735"
        "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D"
        "83DE3541E4C2B58177E065A9BF7B62EC"  # the tag
    )
    sm4 = Sm4Gcm()
    out = bytearray(len(plaintext) + TAG_SIZE)
    sm4.encrypt_into(key, nonce, plaintext, aad, memoryview(out))
    assert bytes(out) == expected
    assert sm4.decrypt(key, nonce, expected, aad) == plaintext
    with pytest.raises(IntegrityError):
        sm4.decrypt(key, nonce, expected, aad + b"!")


@pytest.mark.parametrize("cipher", CIPHERS)
@pytest.mark.parametrize("subject", [None, "MV-PATIENT-A"])
def test_round_trip(keyring: LocalKeyring, cipher: str, subject: str | None) -> None:
    env = Envelope(keyring, cipher)
    for payload in (b"", b"x", bytes(range(256)) * 4099):
        sealed = env.seal(payload, object_id="obj", version=3, subject=subject)
        assert env.open(sealed, object_id="obj", version=3) == payload
        assert env.open(bytes(sealed), object_id="obj", version=3) == payload
        # header overhead stays compact: magic .. nonce plus the tag
        assert len(sealed) - len(payload) <= 128


@settings(max_examples=40, deadline=None)
@given(payload=st.binary(max_size=4096), object_id=st.text(min_size=1, max_size=40))
def test_round_trip_property(
    tmp_path_factory: pytest.TempPathFactory, payload: bytes, object_id: str
) -> None:
    ring = LocalKeyring(tmp_path_factory.mktemp("ring") / "k")
    for cipher in CIPHERS:
        env = Envelope(ring, cipher)
        assert env.open(env.seal(payload, object_id=object_id), object_id=object_id) == payload


def test_unknown_cipher_is_a_usage_error(keyring: LocalKeyring) -> None:
    with pytest.raises(UsageError):
        Envelope(keyring, "rot13")
    assert cipher_named("SM4-GCM").name == "sm4-gcm"


@pytest.mark.parametrize("cipher", CIPHERS)
def test_blob_cannot_move_to_another_object_or_version(keyring: LocalKeyring, cipher: str) -> None:
    env = Envelope(keyring, cipher)
    sealed = env.seal(b"study pixels", object_id="a", version=1, subject="MV-1")
    with pytest.raises(IntegrityError):
        env.open(sealed, object_id="b", version=1)
    with pytest.raises(IntegrityError):
        env.open(sealed, object_id="a", version=2)


@pytest.mark.parametrize("cipher", CIPHERS)
def test_every_altered_byte_is_rejected(keyring: LocalKeyring, cipher: str) -> None:
    env = Envelope(keyring, cipher)
    sealed = bytes(env.seal(b"0123456789abcdef" * 4, object_id="o", subject="MV-1"))
    for i in range(len(sealed)):
        altered = bytearray(sealed)
        altered[i] ^= 0x01
        with pytest.raises(IntegrityError):
            env.open(altered, object_id="o")
    for cut in (0, 3, 20, len(sealed) - 1):
        with pytest.raises(IntegrityError):
            env.open(sealed[:cut], object_id="o")


def test_swapped_wrapped_deks_and_ciphertexts_are_rejected(keyring: LocalKeyring) -> None:
    env = Envelope(keyring)
    one = bytes(env.seal(b"A" * 100, object_id="one", subject="MV-1"))
    two = bytes(env.seal(b"B" * 100, object_id="two", subject="MV-1"))
    body = len(one) - 100 - TAG_SIZE  # same layout: same header length
    # header of one (its wrapped DEK) + ciphertext of two, under either id
    franken = one[:body] + two[body:]
    for object_id in ("one", "two"):
        with pytest.raises(IntegrityError):
            env.open(franken, object_id=object_id)


def test_blob_names_cipher_and_keys_it_needs(keyring: LocalKeyring) -> None:
    sealed = Envelope(keyring, "sm4-gcm").seal(b"x", object_id="o", subject="MV-1")
    # an AES envelope still opens an SM4 blob: the blob, not the caller, names the cipher
    assert Envelope(keyring).open(sealed, object_id="o") == b"x"
    ref = key_ref(sealed)
    assert ref.kek_version == 1
    assert ref.subject_id == keyring.subject_id("MV-1")


@pytest.mark.parametrize("cipher", CIPHERS)
def test_rotation_rewraps_without_reencrypting(keyring: LocalKeyring, cipher: str) -> None:
    env = Envelope(keyring, cipher)
    payload = b"ciphertext must not change" * 50
    blobs = {
        oid: bytes(env.seal(payload, object_id=oid, subject=subj))
        for oid, subj in (("plain", None), ("subj", "MV-9"))
    }
    assert keyring.rotate() == 2
    for oid, sealed in blobs.items():
        assert env.open(sealed, object_id=oid) == payload  # old version still held
        rewrapped = env.rewrap(sealed, object_id=oid)
        assert rewrapped is not None
        assert key_ref(rewrapped).kek_version == 2
        assert bytes(rewrapped[-len(payload) - TAG_SIZE :]) == sealed[-len(payload) - TAG_SIZE :]
        assert env.rewrap(rewrapped, object_id=oid) is None
        blobs[oid] = bytes(rewrapped)
    stale = bytes(env.seal(payload, object_id="late", subject="MV-9"))
    keyring.rotate()
    keyring.retire(1)
    assert keyring.versions() == [2, 3]
    for oid, sealed in blobs.items():
        assert env.open(sealed, object_id=oid) == payload
    assert env.open(stale, object_id="late") == payload  # sealed under v2, still held
    with pytest.raises(ValueError, match="current"):
        keyring.retire(3)


def test_retired_kek_makes_unwrapped_blobs_unreadable(keyring: LocalKeyring) -> None:
    env = Envelope(keyring)
    sealed = env.seal(b"old", object_id="o")
    keyring.rotate()
    keyring.retire(1)
    with pytest.raises(KeyUnavailable):
        env.open(sealed, object_id="o")


def test_shredding_one_subject_leaves_others_readable(keyring: LocalKeyring) -> None:
    env = Envelope(keyring)
    a = env.seal(b"patient a", object_id="a", subject="MV-A")
    b = env.seal(b"patient b", object_id="b", subject="MV-B")
    plain = env.seal(b"no subject", object_id="p")
    shred(keyring, "MV-A")
    with pytest.raises(KeyDestroyed):
        env.open(a, object_id="a")
    assert env.open(b, object_id="b") == b"patient b"
    assert env.open(plain, object_id="p") == b"no subject"
    # a fresh keyring object (another process) sees the same, and refuses new data for A
    again = Envelope(LocalKeyring(keyring.path))
    with pytest.raises(KeyDestroyed):
        again.open(a, object_id="a")
    with pytest.raises(KeyDestroyed):
        again.seal(b"new", object_id="n", subject="MV-A")
    assert keyring.shred("MV-A") is False  # nothing left to destroy
    assert keyring.shred("MV-C") is False  # never existed, but now tombstoned


def test_keyring_files_are_private_and_name_no_subject(keyring: LocalKeyring) -> None:
    Envelope(keyring).seal(b"x", object_id="o", subject="MV-SECRET-PSEUDONYM")
    keyring.shred("MV-OTHER")
    for path in [keyring.path, *keyring.path.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), path
        assert "MV-" not in path.name
        if path.is_file():
            assert b"MV-" not in path.read_bytes()


def test_shred_and_retire_by_another_keyring_take_effect_at_once(keyring: LocalKeyring) -> None:
    env = Envelope(keyring)  # warms this keyring's caches
    subject_blob = env.seal(b"s", object_id="s", subject="MV-1")
    plain_blob = env.seal(b"p", object_id="p")
    assert bytes(env.open(subject_blob, object_id="s")) == b"s"
    assert bytes(env.open(plain_blob, object_id="p")) == b"p"
    other = LocalKeyring(keyring.path)  # e.g. `medveil keys ...` in another process
    other.shred("MV-1")
    with pytest.raises(KeyDestroyed):
        env.open(subject_blob, object_id="s")
    other.rotate()
    other.retire(1)
    with pytest.raises(KeyUnavailable):
        env.open(plain_blob, object_id="p")
    # this keyring notices its cached current version is gone and moves on to version 2
    assert key_ref(env.seal(b"n", object_id="n")).kek_version == 2
