"""The detector's statistics: keys, the false-positive bound, polarity."""

from __future__ import annotations

import math
import stat
from pathlib import Path

import numpy as np
import pytest

from medveil.watermark.detect import FALSE_POSITIVE_LIMIT, Detector, false_positive_bound
from medveil.watermark.embed import embed_pixels, luminance
from medveil.watermark.keys import key_path, load_or_create_key
from medveil.watermark.tile import KeyedTile


def test_key_is_created_once_private_and_checked(tmp_path: Path) -> None:
    key = load_or_create_key(tmp_path)
    assert len(key) == 32 and load_or_create_key(tmp_path) == key
    assert stat.S_IMODE(key_path(tmp_path).stat().st_mode) == 0o600
    key_path(tmp_path).write_bytes(b"short")
    with pytest.raises(ValueError, match="damaged"):
        load_or_create_key(tmp_path)


def test_bound_is_a_union_bound_over_all_hypotheses() -> None:
    # 64 x 64 phases x periods, each P(|z| >= t) <= 2 exp(-t^2 / 2) by Hoeffding.
    assert false_positive_bound(8.0, 5) == pytest.approx(5 * 64 * 64 * 2 * math.exp(-32))
    assert false_positive_bound(0.0, 5) == 1.0
    assert false_positive_bound(7.0, 8) > false_positive_bound(7.5, 8)
    assert false_positive_bound(6.8, 3) > FALSE_POSITIVE_LIMIT > false_positive_bound(7.1, 3)


def test_null_scores_stay_well_below_the_reporting_threshold() -> None:
    """Unmarked textures of several sizes and scales never come near a report.

    Under the null hypothesis the best of ~10^5 hypotheses is typically z ~ 4.5;
    a report needs z ~ 6.9.
    """
    rng = np.random.default_rng(2024)
    detector = Detector(bytes(range(32)))
    worst = 0.0
    for size in (300, 700, 1300):
        smooth = np.cumsum(np.cumsum(rng.normal(0, 1, (size, size)), 0), 1)
        texture = smooth / np.abs(smooth).max() * 2000 + rng.normal(0, 30, (size, size)) + 2048
        for image in (texture, rng.normal(128, 40, (size, size))):
            found = detector.detect(image.astype(np.float32))
            assert found.export_id is None and found.false_positive > FALSE_POSITIVE_LIMIT
            worst = max(worst, found.z_score)
    assert worst < 6.0


def test_inverted_rendering_is_read_with_inverted_flag(pydicom_samples: Path) -> None:
    """A MONOCHROME1 image shown (and saved) inverted still carries its id."""
    from medveil.watermark.images import read_picture

    key = b"\x42" * 32
    picture = read_picture(pydicom_samples / "RG1_UNCR.dcm")
    marked = embed_pixels(
        picture.frames[0], KeyedTile.from_key(key).chips(99), low=0, high=picture.high
    )
    found = Detector(key).detect(-luminance(marked))
    assert found.export_id == 99 and found.inverted


@pytest.mark.parametrize("shape", [(1, 1), (40, 500), (64, 64), (130, 90)])
def test_tiny_images_report_no_watermark(shape: tuple[int, int]) -> None:
    image = np.random.default_rng(0).normal(100, 10, shape).astype(np.float32)
    found = Detector(b"\x01" * 32).detect(image)
    assert found.export_id is None and not found.present
