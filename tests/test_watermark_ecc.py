"""The payload's error control: CRC-16 and the soft-decision convolutional code."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from medveil.watermark import ecc
from medveil.watermark.tile import CODED_BITS, MESSAGE_BITS, KeyedTile


def test_crc16_matches_the_ccitt_false_check_value() -> None:
    assert ecc.crc16(b"123456789") == 0x29B1


@given(st.integers(min_value=0, max_value=2**48 - 1))
def test_bits_round_trip(value: int) -> None:
    assert ecc.from_bits(ecc.to_bits(value, 48)) == value


def test_viterbi_corrects_noise_as_strong_as_the_signal() -> None:
    """At Es/N0 = 0 dB (noise power = symbol power) almost every frame decodes exactly.

    Uncoded, a third of such symbols would be wrong; the K=7 rate-1/3 code
    brings the frame error rate to about 2% (measured over fixed seeds).
    """
    rng = np.random.default_rng(11)
    failures = 0
    for _ in range(200):
        bits = rng.integers(0, 2, MESSAGE_BITS)
        symbols = ecc.encode(bits)
        decoded = ecc.viterbi(symbols + rng.normal(0.0, 1.0, symbols.size), MESSAGE_BITS)
        failures += not np.array_equal(decoded, bits)
    assert failures <= 10


def test_clean_symbols_decode_exactly() -> None:
    bits = ecc.to_bits(0xDEADBEEF1234, MESSAGE_BITS)
    assert np.array_equal(ecc.viterbi(ecc.encode(bits), MESSAGE_BITS), bits)
    assert ecc.coded_length(MESSAGE_BITS) == CODED_BITS


def test_tile_payload_survives_chip_noise_and_crc_rejects_garbage() -> None:
    tile = KeyedTile.from_key(b"\x07" * 32)
    chips = tile.chips(0x1234ABCD)
    noise = np.random.default_rng(3).normal(0.0, 1.5, chips.shape)
    received = chips + noise
    data = received - (tile.pilot * received).mean() * tile.pilot
    bits = ecc.viterbi(tile.soft_symbols(data), MESSAGE_BITS)
    assert KeyedTile.check(bits) == 0x1234ABCD
    garbage = ecc.viterbi(tile.soft_symbols(noise), MESSAGE_BITS)
    assert KeyedTile.check(garbage) is None
