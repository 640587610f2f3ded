"""Real sample files of every encoding de-identify and still decode.

One batch (in-process runner, pixels off) over the pydicom-data and deid-data
samples; each output must read back with pydicom and decode to exactly the
input's pixels -- the header pipeline must never damage the image -- and must
no longer contain the sample's own patient name or ID.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pydicom
import pytest

from leakscan import scan_file
from medveil.batch.outcome import FileOutcome, Status
from test_leaks import deidentify_tree, policy_for

PYDICOM_SAMPLES = [
    "RG1_UNCR.dcm",
    "RG1_J2KR.dcm",
    "RG3_UNCR.dcm",
    "RG3_J2KR.dcm",
    "MR2_UNCR.dcm",
    "MR2_J2KR.dcm",
    "US1_UNCR.dcm",
    "US1_J2KR.dcm",
    "emri_small_RLE.dcm",
    "emri_small_big_endian.dcm",
    "emri_small_jpeg_ls_lossless.dcm",
    "OBXXXX1A_rle.dcm",
    "JPEG-LL.dcm",
    "MR-SIEMENS-DICOM-WithOverlays.dcm",
    "explicit_VR-UN.dcm",
]
DEID_SAMPLES = [
    "animals/cat.dcm",
    "humans/ctbrain1.dcm",
    "dicom-cookies/image1.dcm",
    "ultrasounds/GREYSCALE_IMAGE.dcm",
    "ultrasounds/RGB_IMAGE.dcm",
    "ultrasounds/ultrasound-multiframe.dcm",
]


@pytest.fixture(scope="module")
def samples(pydicom_samples: Path, deid_samples: Path) -> list[Path]:
    return [pydicom_samples / n for n in PYDICOM_SAMPLES] + [deid_samples / n for n in DEID_SAMPLES]


@pytest.fixture(scope="module")
def batch(samples: list[Path], tmp_path_factory: pytest.TempPathFactory) -> dict[Path, FileOutcome]:
    """One in-process run per sample: the emri_small variants share one SOP Instance UID,
    so a single batch would (rightly) skip all but the first as duplicates."""
    policy = policy_for("research", ())
    return {
        outcome.input: outcome
        for index, sample in enumerate(samples)
        for outcome in deidentify_tree(sample, tmp_path_factory.mktemp(f"sample-{index}"), policy)
    }


@pytest.mark.parametrize("name", PYDICOM_SAMPLES + DEID_SAMPLES)
def test_sample_deidentifies_and_decodes(
    name: str, samples: list[Path], batch: dict[Path, FileOutcome]
) -> None:
    source = next(p for p in samples if p.as_posix().endswith(name))
    outcome = batch[source.resolve()]
    assert outcome.status is Status.OK, outcome.reason
    assert outcome.output is not None
    original, result = pydicom.dcmread(source), pydicom.dcmread(outcome.output)
    assert result.SOPInstanceUID != original.SOPInstanceUID
    for keyword in ("Modality", "Rows", "Columns", "BitsAllocated", "SamplesPerPixel"):
        assert result.get(keyword) == original.get(keyword), keyword
    assert np.array_equal(result.pixel_array, original.pixel_array)
    assert scan_file(outcome.output, identifying_strings(original)) == []


def identifying_strings(ds: pydicom.Dataset) -> dict[str, str]:
    """The sample's own patient name parts and ID, where long enough to be searched.

    Five characters at least: the scanner matches substrings, and a short given
    name such as "MARY" is part of the code string "PRIMARY".
    """
    parts = [("id", str(ds.get("PatientID", "")))]
    for part in re.split(r"[\^=]", str(ds.get("PatientName", ""))):
        parts.append(("name", part))
    return {value: kind for kind, value in parts if len(value.strip()) >= 5}
