"""Decoding every pixel format and writing redacted frames back truthfully.

Only the ``clean_pixels`` tests at the end (1-bit data, data hidden outside
the decoded frames) run OCR.
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import cv2
import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate, generate_fragmented_frames
from pydicom.pixels import pack_bits
from pydicom.uid import (
    JPEG2000,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGLosslessSV1,
    JPEGLSLossless,
    RLELossless,
)

from medveil.deid.policy import PixelMode
from medveil.deid.text import PhiLexicon
from medveil.errors import PixelCleaningError
from medveil.pixels import clean_pixels
from medveil.pixels.codec import read_frames, write_frames
from medveil.pixels.report import Box
from pixel_fixtures import covered

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
    # 32-bit: set_pixel_data and pydicom's RLE encoder stop at 16 bits
    ("data_store", "SC_rgb_32bit_2frame.dcm", ExplicitVRLittleEndian, None, "RGB", None),
    (
        "data_store",
        "SC_rgb_expb_32bit.dcm",
        ExplicitVRBigEndian,
        ExplicitVRLittleEndian,
        "RGB",
        None,
    ),
    ("pydicom", "rtdose.dcm", ImplicitVRLittleEndian, None, "MONOCHROME2", None),
    ("pydicom", "rtdose_rle.dcm", RLELossless, ExplicitVRLittleEndian, "MONOCHROME2", None),
    ("pydicom", "SC_rgb_rle_32bit_2frame.dcm", RLELossless, ExplicitVRLittleEndian, "RGB", None),
]


def _path(package: str, name: str, pydicom_samples: Path, deid_samples: Path) -> Path:
    if package == "pydicom":  # pydicom's own test files
        return Path(str(get_testdata_file(name)))
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


@pytest.mark.parametrize("damage", ["truncated", "no pixels", "wrong BitsAllocated"])
def test_undecodable_pixels_fail_closed(damage: str, pydicom_samples: Path) -> None:
    ds = pydicom.dcmread(pydicom_samples / "RG1_UNCR.dcm")
    if damage == "truncated":
        ds.PixelData = ds.PixelData[:1000]
    elif damage == "wrong BitsAllocated":  # 16-bit data declared 32-bit: too short
        ds.BitsAllocated = 32
    else:
        del ds.PixelData
    with pytest.raises(PixelCleaningError):
        read_frames(ds)


# --- 1-bit pixel data (binary segmentations) ------------------------------------------------

# Rows x columns of the synthetic volume: 12,789 bits per frame, not a multiple
# of 8, so frames share bytes when packed.
BIT_ROWS, BIT_COLUMNS = 63, 203


def _one_bit(volume: np.ndarray) -> Dataset:
    """A minimal multi-frame 1-bit MONOCHROME2 segmentation holding ``volume`` (0/1)."""
    ds = _gray(pack_bits(volume), *volume.shape[1:], bits=1, stored=1)
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.66.4"
    ds.file_meta.MediaStorageSOPInstanceUID = "1.2.3.4.5"
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.Modality = "SEG"
    ds.PatientID = "12345678"
    ds.NumberOfFrames = volume.shape[0]
    return ds


@pytest.mark.parametrize(
    ("name", "source"),
    [("liver.dcm", ExplicitVRLittleEndian), ("liver_expb.dcm", ExplicitVRBigEndian)],
)
def test_one_bit_frames_are_written_back_exactly(
    name: str, source: str, pydicom_samples: Path
) -> None:
    ds = pydicom.dcmread(pydicom_samples / name)
    assert ds.file_meta.TransferSyntaxUID == source and ds.BitsAllocated == 1
    frames = read_frames(ds)
    assert frames.array.shape == (3, 512, 512) and frames.array.dtype == np.uint8
    assert set(np.unique(frames.array)) <= {0, 1}
    expected = frames.array.copy()
    frames.array[1, 200:300, 200:300] = 0  # a redaction through the segmented liver
    expected[1, 200:300, 200:300] = 0
    assert write_frames(ds, frames) == ExplicitVRLittleEndian
    out = _roundtrip(ds)
    assert out.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert (out.BitsAllocated, out.BitsStored, out.HighBit) == (1, 1, 0)
    assert out.PixelData == pack_bits(expected)
    np.testing.assert_array_equal(out.pixel_array, expected)


def test_one_bit_frames_are_packed_across_frame_boundaries() -> None:
    rng = np.random.default_rng(3)
    volume = rng.integers(0, 2, (3, BIT_ROWS, BIT_COLUMNS), dtype=np.uint8)
    ds = _one_bit(volume)
    frames = read_frames(ds)
    np.testing.assert_array_equal(frames.array, volume)
    frames.array[1, -2:, -3:] = 0  # the last bits of frame 1 share a byte with frame 2
    frames.array[2, :1, :4] = 0
    expected = volume.copy()
    expected[1, -2:, -3:] = 0
    expected[2, :1, :4] = 0
    write_frames(ds, frames)
    out = _roundtrip(ds)
    assert out.PixelData == pack_bits(expected)
    assert len(out.PixelData) == -(-(3 * BIT_ROWS * BIT_COLUMNS) // 16) * 2
    np.testing.assert_array_equal(out.pixel_array, expected)


def test_one_bit_segmentation_without_text_is_left_untouched(pydicom_samples: Path) -> None:
    ds = pydicom.dcmread(pydicom_samples / "liver.dcm")
    data = ds.PixelData
    for mode in (PixelMode.ALL_TEXT, PixelMode.PHI):
        report = clean_pixels(ds, mode=mode, phi=PhiLexicon.from_dataset(ds))
        assert report.frames == 3 and report.boxes_redacted == 0 and not report.rewritten
    assert ds.PixelData is data and ds.BurnedInAnnotation == "NO"
    assert ds.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian


def test_one_bit_text_is_cleared_in_all_text_mode() -> None:
    volume = np.zeros((3, BIT_ROWS, BIT_COLUMNS), dtype=np.uint8)
    volume[:, 40:58, 20:70] = 1  # a segmented blob in every frame
    volume[2, 45:55, 150:190] = 1
    cv2.putText(volume[1], "DOE JOHN", (8, 28), cv2.FONT_HERSHEY_SIMPLEX, 0.7, 1, 2)
    ink = np.zeros(volume.shape[1:], dtype=np.uint8)
    cv2.putText(ink, "DOE JOHN", (8, 28), cv2.FONT_HERSHEY_SIMPLEX, 0.7, 1, 2)
    text = ink.astype(bool)
    rows, columns = np.nonzero(text)
    truth = Box(int(columns.min()), int(rows.min()), int(columns.max()) + 1, int(rows.max()) + 1)
    ds = _one_bit(volume)
    report = clean_pixels(ds, mode=PixelMode.ALL_TEXT, phi=PhiLexicon.from_dataset(ds))
    assert report.rewritten and report.verified
    boxes = {
        i: [r.box for r in report.regions if r.action == "redact" and r.frame == i]
        for i in range(3)
    }
    assert covered(truth, boxes[1]), boxes
    out = _roundtrip(ds)
    assert out.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert (out.BitsAllocated, out.BitsStored, out.HighBit) == (1, 1, 0)
    after = out.pixel_array
    assert not after[1][text].any(), "text pixels left set"
    expected = volume.copy()
    for index, frame_boxes in boxes.items():
        inside = np.zeros(volume.shape[1:], dtype=bool)
        for b in frame_boxes:
            inside[b.y0 : b.y1, b.x0 : b.x1] = True
            expected[index, b.y0 : b.y1, b.x0 : b.x1] = 0
        assert np.array_equal(after[index][~inside], volume[index][~inside]), index
    np.testing.assert_array_equal(after, expected)
    assert out.PixelData == pack_bits(expected)


# --- stored data that no decoded frame shows -------------------------------------------------


def _gray(data: bytes, rows: int, columns: int, *, bits: int = 8, stored: int = 8) -> Dataset:
    """A minimal native MONOCHROME2 dataset whose Pixel Data is ``data`` as given."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.file_meta.MediaStorageSOPInstanceUID = "1.2.3.4.6"
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.PatientName = "DOE^JOHN"
    ds.Rows, ds.Columns = rows, columns
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = bits, stored, stored - 1
    ds.PixelRepresentation = 0
    ds.PixelData = data
    ds["PixelData"].VR = "OW" if bits > 8 else "OB"
    return ds


def _clean_phi(ds: Dataset) -> Dataset:
    report = clean_pixels(ds, mode=PixelMode.PHI, phi=PhiLexicon.from_dataset(ds))
    assert report.verified and report.rewritten
    return _roundtrip(ds)


@pytest.mark.parametrize("signed", [False, True])
def test_bits_above_bits_stored_are_cleared(signed: bool) -> None:
    """Text in bit 15 of 12-bit data, with no overlay elements naming it, is dropped."""
    rng = np.random.default_rng(5)
    values = rng.integers(-2048 if signed else 0, 2048 if signed else 4096, (48, 64))
    text = np.zeros(values.shape, dtype=np.uint8)
    cv2.putText(text, "DOE", (2, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.9, 1, 2)
    stored = values.astype("<u2") & 0x0FFF  # a signed value stored without sign extension
    ds = _gray((stored | text.astype("<u2") << 15).tobytes(), 48, 64, bits=16, stored=12)
    ds.PixelRepresentation = int(signed)
    out = _clean_phi(ds)
    written = np.frombuffer(out.PixelData, dtype="<i2" if signed else "<u2").reshape(48, 64)
    np.testing.assert_array_equal(written, values)  # signed: sign-extended, unsigned: masked


def test_bits_within_bits_stored_are_left_alone() -> None:
    """Sign-extended negatives and values at both ends of the range are image, not hidden."""
    values = np.array([[-2048, -1, 0, 2047]] * 4, dtype="<i2")
    ds = _gray(values.tobytes(), 4, 4, bits=16, stored=12)
    ds.PixelRepresentation = 1
    frames = read_frames(ds)
    assert not frames.hidden
    np.testing.assert_array_equal(frames.array[0], values)
    ds = _gray(np.full((4, 4), 4095, dtype="<u2").tobytes(), 4, 4, bits=16, stored=12)
    assert not read_frames(ds).hidden


@pytest.mark.filterwarnings("ignore:The pixel data is .* bytes long")  # pydicom: excess
@pytest.mark.parametrize(
    ("declared", "stored_rows"),
    [
        (None, 60),  # one frame followed by half a frame of extra bytes
        (2, 120),  # NumberOfFrames 2 and three frames of data
    ],
)
def test_native_bytes_beyond_the_declared_frames_are_dropped(
    declared: int | None, stored_rows: int
) -> None:
    rng = np.random.default_rng(6)
    rows = 40
    data = rng.integers(0, 40, (stored_rows, 64)).astype(np.uint8)
    cv2.putText(data[-20:], "DOE", (2, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 255, 1)
    ds = _gray(data.tobytes(), rows, 64)
    if declared is not None:
        ds.NumberOfFrames = declared
    frames = declared or 1
    out = _clean_phi(ds)
    assert len(out.PixelData) == frames * rows * 64
    assert out.get("NumberOfFrames") == declared
    np.testing.assert_array_equal(
        np.frombuffer(out.PixelData, np.uint8), data[: frames * rows].ravel()
    )


def test_one_pad_byte_is_not_excess_data() -> None:
    ds = _gray(bytes(range(63)) + b"\x00", 7, 9)  # 63 bytes, padded to an even length
    assert not read_frames(ds).hidden


def test_encapsulated_frames_beyond_number_of_frames_are_dropped() -> None:
    volume = np.random.default_rng(7).integers(0, 40, (2, 40, 64)).astype(np.uint8)
    ds = _gray(volume.tobytes(), 40, 64)
    ds.NumberOfFrames = 2
    ds.compress(RLELossless, generate_instance_uid=False)
    ds.NumberOfFrames = 1  # the second RLE fragment is a frame no decoder reads
    out = _clean_phi(ds)
    assert out.file_meta.TransferSyntaxUID == RLELossless and out.NumberOfFrames == 1
    assert len(list(generate_fragmented_frames(out.PixelData, number_of_frames=1))) == 1
    np.testing.assert_array_equal(out.pixel_array, volume[0])


@pytest.mark.parametrize("frames", [1, 3])
def test_clean_rle_is_neither_hidden_nor_rewritten(frames: int) -> None:
    volume = np.random.default_rng(5).integers(0, 40, (frames, 40, 64)).astype(np.uint8)
    ds = _gray(volume.tobytes(), 40, 64)
    ds.NumberOfFrames = frames
    ds.compress(RLELossless, generate_instance_uid=False)
    assert not read_frames(ds).hidden
    before = ds.PixelData
    report = clean_pixels(ds, mode=PixelMode.PHI, phi=PhiLexicon.from_dataset(ds))
    assert not report.rewritten and ds.PixelData == before


def test_second_codestream_in_a_single_frame_without_offsets_is_dropped() -> None:
    """Fragments of one frame are joined for the decoder, which stops at the first EOC: a
    second codestream stored after it is never displayed, so it may hold anything."""
    image = np.random.default_rng(6).integers(0, 40, (40, 64)).astype(np.uint8)
    ds = _gray(image.tobytes(), 40, 64)
    ds.compress(JPEG2000Lossless, generate_instance_uid=False)
    (codestream,) = generate_fragmented_frames(ds.PixelData, number_of_frames=1)
    other = _gray(np.full((40, 64), 200, np.uint8).tobytes(), 40, 64)
    other.compress(JPEG2000Lossless, generate_instance_uid=False)
    (hidden,) = generate_fragmented_frames(other.PixelData, number_of_frames=1)
    ds.PixelData = encapsulate([codestream[0], hidden[0]], has_bot=False)
    assert read_frames(ds).hidden
    out = _clean_phi(ds)
    assert hidden[0] not in out.PixelData
    np.testing.assert_array_equal(out.pixel_array, image)


@pytest.mark.parametrize("syntax", [RLELossless, JPEG2000Lossless])
def test_one_frame_of_a_multi_frame_object_keeps_number_of_frames(syntax: str) -> None:
    """NumberOfFrames is Type 1 in multi-frame IODs; re-encoding one frame must keep it."""
    image = np.random.default_rng(8).integers(0, 300, (40, 64)).astype("<u2")
    ds = _gray(image.tobytes(), 40, 64, bits=16, stored=12)
    ds.NumberOfFrames = 1
    ds.compress(syntax, generate_instance_uid=False)
    frames = read_frames(ds)
    frames.array[0, 5:15, 5:25] = 0
    assert write_frames(ds, frames) == syntax
    out = _roundtrip(ds)
    assert out.NumberOfFrames == 1
    np.testing.assert_array_equal(out.pixel_array, frames.array[0])
