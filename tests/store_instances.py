"""Synthetic de-identified Part-10 instances for the store tests and ``benchmarks/storage.py``.

A module of its own (no pytest fixtures, no bare imports of other test modules)
so that the benchmark can import it as ``tests.store_instances``.
"""

from __future__ import annotations

import random
from io import BytesIO

from pydicom import Dataset
from pydicom.dataset import FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage


def make_instance(subject: str, *, seed: int, side: int = 64, removed: bool = True) -> bytes:
    """A de-identified-looking Part-10 file with ``side``² 16-bit pixels from ``seed``."""
    rng = random.Random(seed)
    ds = Dataset()
    ds.PatientID = subject
    ds.PatientName = subject
    if removed:
        ds.PatientIdentityRemoved = "YES"
    ds.StudyInstanceUID = f"2.25.{seed + 1}1"
    ds.SeriesInstanceUID = f"2.25.{seed + 1}2"
    ds.SOPInstanceUID = f"2.25.{seed + 1}3"
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.Modality = "DX"
    ds.Rows = ds.Columns = side
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
    ds.PixelRepresentation, ds.SamplesPerPixel = 0, 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.PixelData = rng.randbytes(2 * side * side)
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    out = BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()
