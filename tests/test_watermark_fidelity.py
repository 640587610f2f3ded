"""Fidelity of marked images, on the full bit depth, and untouched regions of interest."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from medveil.watermark import attacks
from medveil.watermark.detect import Detector
from medveil.watermark.embed import TEXTURED_MIN_SSIM, TEXTURED_PSNR_DB, luminance
from medveil.watermark.fidelity import psnr, ssim
from medveil.watermark.images import Picture, read_picture
from medveil.watermark.service import mark_picture, region_mask

KEY = hashlib.sha256(b"medveil watermark fidelity tests").digest()


@pytest.mark.parametrize(
    ("relative", "min_psnr"),
    [
        ("pydicom/RG1_UNCR.dcm", 45.0),  # chest CR, 15 bits stored
        ("deid/animals/cat.dcm", 45.0),  # DX, 12 bits stored
        ("pydicom/MR2_UNCR.dcm", 45.0),  # MR, 12 bits stored
        ("pydicom/RG3_UNCR.dcm", 45.0),  # extremity CR, 10 bits: flat soft tissue
        # 8-bit RGB ultrasound: speckle hides a 45 dB mark from the detector, so
        # the embedder uses its textured profile (docs/watermark.md).
        ("pydicom/US1_UNCR.dcm", TEXTURED_PSNR_DB),
    ],
)
def test_psnr_and_ssim_on_full_bit_depth(
    pydicom_samples: Path, deid_samples: Path, relative: str, min_psnr: float
) -> None:
    """PSNR >= ``min_psnr`` against 2**BitsStored - 1 and the image's own range; SSIM >= 0.99."""
    folder, name = relative.split("/", 1)
    picture = read_picture((pydicom_samples if folder == "pydicom" else deid_samples) / name)
    original = picture.frames[0]
    marked = mark_picture(picture, 0x00C0FFEE, KEY)[0]
    own_range = float(original.max()) - float(original.min())
    assert marked.dtype == original.dtype and marked.shape == original.shape
    assert psnr(original, marked, picture.peak) >= min_psnr
    assert psnr(original, marked, own_range) >= min_psnr
    assert ssim(original, marked, own_range) >= 0.99
    assert marked.min() >= picture.low and marked.max() <= picture.high


def test_textured_profile_never_costs_ssim(pydicom_samples: Path) -> None:
    """A small, smooth 8-bit image whose mark reads back weakly gets a stronger mark, SSIM kept.

    At 40 dB the SSIM of this 512 x 512 MR rendering would drop to ~0.97, so the
    embedder takes the strongest level that keeps 0.99, and the mark is traced
    after JPEG 70.
    """
    picture = read_picture(pydicom_samples / "MR2_UNCR.dcm")
    grey = np.asarray(attacks.resize(attacks.window_to_8bit(picture.frames[0]), 0.5))
    marked = np.asarray(mark_picture(Picture(grey[None], 0.0, 255.0), 0x00C0FFEE, KEY)[0])
    own_range = float(grey.max()) - float(grey.min())
    assert TEXTURED_PSNR_DB <= psnr(grey, marked, own_range) < 45.0
    assert ssim(grey, marked, own_range) >= TEXTURED_MIN_SSIM
    found = Detector(KEY).detect(luminance(attacks.jpeg(marked.astype(np.uint8), 70)))
    assert found.export_id == 0x00C0FFEE


def test_region_of_interest_is_bit_identical_and_mark_still_found(pydicom_samples: Path) -> None:
    picture = read_picture(pydicom_samples / "RG1_UNCR.dcm")
    original = picture.frames[0]
    box = (500, 600, 700, 600)
    keep_out = region_mask(original.shape, box=box)
    assert keep_out is not None
    marked = mark_picture(picture, 0x1234, KEY, keep_out)[0]
    x, y, width, height = box
    assert np.array_equal(
        marked[y : y + height, x : x + width], original[y : y + height, x : x + width]
    )
    assert not np.array_equal(marked, original)
    assert Detector(KEY).detect(luminance(marked)).export_id == 0x1234


def test_region_of_interest_from_mask_image(pydicom_samples: Path, tmp_path: Path) -> None:
    import cv2

    picture = read_picture(pydicom_samples / "MR2_UNCR.dcm")
    original = picture.frames[0]
    mask = np.zeros(original.shape, np.uint8)
    cv2.circle(mask, (512, 512), 200, 255, -1)
    mask_file = tmp_path / "roi.png"
    cv2.imwrite(str(mask_file), mask)
    keep_out = region_mask(original.shape, mask_file=mask_file)
    marked = mark_picture(picture, 77, KEY, keep_out)[0]
    assert np.array_equal(marked[mask > 0], original[mask > 0])
    with pytest.raises(ValueError, match="does not match"):
        region_mask((10, 10), mask_file=mask_file)


def test_ssim_behaves_like_ssim() -> None:
    rng = np.random.default_rng(5)
    image = rng.integers(0, 4096, (128, 128)).astype(np.uint16)
    assert ssim(image, image, 4095) == pytest.approx(1.0)
    noisy = np.clip(image + rng.normal(0, 200, image.shape), 0, 4095).astype(np.uint16)
    noisier = np.clip(image + rng.normal(0, 800, image.shape), 0, 4095).astype(np.uint16)
    assert 0 < ssim(image, noisier, 4095) < ssim(image, noisy, 4095) < 1
    assert ssim(image, noisy, 4095) == pytest.approx(ssim(noisy, image, 4095))
    unrelated = rng.integers(0, 4096, image.shape).astype(np.uint16)
    assert abs(ssim(image, unrelated, 4095)) < 0.05


def test_psnr_of_known_error() -> None:
    image = np.zeros((10, 10), np.uint16)
    assert psnr(image, image + 10, 1000) == pytest.approx(40.0)
    assert psnr(image, image, 1000) == float("inf")


def test_too_small_images_are_refused() -> None:
    from medveil.watermark.embed import embed_pixels
    from medveil.watermark.tile import KeyedTile

    with pytest.raises(ValueError, match="too small"):
        embed_pixels(
            np.zeros((100, 100), np.uint8), KeyedTile.from_key(KEY).chips(1), low=0, high=255
        )
