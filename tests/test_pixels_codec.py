"""Decoding every pixel format and writing redacted frames back truthfully (no OCR)."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import (
    JPEG2000,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGLosslessSV1,
    JPEGLSLossless,
    RLELossless,
)

from medveil.errors import PixelCleaningError
from medveil.pixels.codec import read_frames, write_frames

# (package, file, source syntax, syntax after a rewrite, photometric after, lossy flag after)
FORMATS = [
    (
        "data_store",
        "RG1_UNCR.dcm",
        ExplicitVRLittleEndian,
        ExplicitVRLittleEndian,
        "MONOCHROME1",
        None,
    ),
    (
        "data_store",
        "emri_small_big_endian.dcm",
        ExplicitVRBigEndian,
        ExplicitVRLittleEndian,
        "MONOCHROME2",
        "00",
    ),
    ("data_store", "OBXXXX1A_rle_2frame.dcm", RLELossless, RLELossless, "PALETTE COLOR", "00"),
    ("data_store", "emri_small_RLE.dcm", RLELossless, RLELossless, "MONOCHROME2", "00"),
    ("data_store", "US1_J2KR.dcm", JPEG2000Lossless, JPEG2000Lossless, "RGB", "00"),
    ("data_store", "RG1_J2KI.dcm", JPEG2000, ExplicitVRLittleEndian, "MONOCHROME1", "01"),
    ("data_store", "JPEG-LL.dcm", JPEGLosslessSV1, ExplicitVRLittleEndian, "MONOCHROME2", "00"),
    (
        "data_store",
        "emri_small_jpeg_ls_lossless.dcm",
        JPEGLSLossless,
        ExplicitVRLittleEndian,
        "MONOCHROME2",
        "00",
    ),
    (
        "data_store",
        "SC_ybr_full_uncompressed.dcm",
        ExplicitVRLittleEndian,
        ExplicitVRLittleEndian,
        "RGB",
        "01",
    ),
    ("data_store", "color-pl.dcm", None, None, "RGB", None),
    ("deid_data", "humans/ctbrain1.dcm", JPEGBaseline8Bit, ExplicitVRLittleEndian, "RGB", "01"),
]


def _path(package: str, name: str, pydicom_samples: Path, deid_samples: Path) -> Path:
    return (pydicom_samples if package == "data_store" else deid_samples) / name


def _roundtrip(ds: Dataset) -> Dataset:
    buffer = BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    buffer.seek(0)
    return pydicom.dcmread(buffer)


@pytest.mark.parametrize(("package", "name", "source", "target", "photometric", "lossy"), FORMATS)
def test_redacted_frames_are_written_back_exactly(
    package: str,
    name: str,
    source: str | None,
    target: str | None,
    photometric: str,
    lossy: str | None,
    pydicom_samples: Path,
    deid_samples: Path,
) -> None:
    ds = pydicom.dcmread(_path(package, name, pydicom_samples, deid_samples))
    if source is not None:
        assert ds.file_meta.TransferSyntaxUID == source
    original_syntax = ds.file_meta.TransferSyntaxUID
    frames = read_frames(ds)
    expected = frames.array.copy()
    frames.array[-1, 5:25, 5:45] = 0  # a redaction in the last frame
    expected[-1, 5:25, 5:45] = 0
    written = write_frames(ds, frames)
    assert written == (target or original_syntax)
    out = _roundtrip(ds)
    assert out.file_meta.TransferSyntaxUID == written
    assert out.PhotometricInterpretation == photometric
    assert out.get("LossyImageCompression") == lossy
    decoded = out.pixel_array
    if frames.count == 1:
        decoded = decoded[np.newaxis]
    np.testing.assert_array_equal(decoded, expected)
    if decoded.ndim == 4:
        assert out.SamplesPerPixel == 3 and out.PlanarConfiguration in (0, 1)


def test_frames_are_private_copies(pydicom_samples: Path) -> None:
    ds = pydicom.dcmread(pydicom_samples / "RG1_UNCR.dcm")
    frames = read_frames(ds)
    frames.array[0, :10, :10] = 0
    assert ds.pixel_array[:10, :10].min() > 0


@pytest.mark.parametrize("damage", ["truncated", "no pixels", "1-bit"])
def test_undecodable_pixels_fail_closed(damage: str, pydicom_samples: Path) -> None:
    if damage == "1-bit":
        ds = pydicom.dcmread(pydicom_samples / "liver.dcm")
    else:
        ds = pydicom.dcmread(pydicom_samples / "RG1_UNCR.dcm")
        if damage == "truncated":
            ds.PixelData = ds.PixelData[:1000]
        else:
            del ds.PixelData
    with pytest.raises(PixelCleaningError):
        read_frames(ds)
