"""End to end: a de-identification run with a vault and a store leaves no PHI in the home.

Identified originals with known PHI go through the real batch runner with the
real ``VaultSink`` and ``StoreSink``. Afterwards every file under the home
(keys, vault database and its WAL, store index and its WAL, blobs, audit log)
is searched byte-wise for every PHI string: none may appear in plain text.
The identity is nonetheless recoverable through ``reidentify``, and the
de-identified files through the store.
"""

from __future__ import annotations

import dataclasses
import secrets
from pathlib import Path

import numpy as np
from pydicom import Dataset, dcmread
from pydicom.dataset import FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage

from medveil.audit import AuditLog
from medveil.batch.discover import discover
from medveil.batch.outcome import Status
from medveil.batch.runner import BatchRunner, RunConfig
from medveil.deid.policy import PixelMode, Policy
from medveil.store import ImageStore, StoreSink
from medveil.vault import IdentityVault, VaultSink

PATIENTS = [
    {
        "PatientName": "Quixote^Alonso",
        "PatientID": "PID-93847562",
        "PatientBirthDate": "19470315",
        "AccessionNumber": "ACC77421",
        "InstitutionName": "Rocinante General Hospital",
        "ReferringPhysicianName": "Panza^Sancho",
        "StudyInstanceUID": "1.2.826.0.1.3680043.2.1125.77771",
    },
    {
        "PatientName": "Dulcinea^Aldonza",
        "PatientID": "PID-11223344",
        "PatientBirthDate": "19520704",
        "AccessionNumber": "ACC99017",
        "InstitutionName": "Toboso Clinic",
        "ReferringPhysicianName": "Carrasco^Sanson",
        "StudyInstanceUID": "1.2.826.0.1.3680043.2.1125.88882",
    },
]
PASSWORD = "operator password 1"


def _phi_strings() -> list[bytes]:
    found: list[bytes] = []
    for patient in PATIENTS:
        for value in patient.values():
            found.append(value.encode())
            found.extend(part.encode() for part in value.split("^") if len(part) > 3)
    return found


def _write_original(path: Path, patient: dict[str, str], instance: int) -> None:
    ds = Dataset()
    for keyword, value in patient.items():
        setattr(ds, keyword, value)
    ds.PatientSex = "O"
    ds.StudyDate = "20240102"
    ds.Modality = "DX"
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.SeriesInstanceUID = patient["StudyInstanceUID"] + ".1"
    ds.SOPInstanceUID = patient["StudyInstanceUID"] + f".1.{instance}"
    ds.Rows = ds.Columns = 64
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
    ds.PixelRepresentation, ds.SamplesPerPixel = 0, 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.PixelData = np.random.default_rng(instance).integers(0, 4096, (64, 64), np.uint16).tobytes()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.save_as(path, enforce_file_format=True)


def test_vault_and_store_run_leaves_no_phi_under_home(tmp_path: Path) -> None:
    home, inputs, out = tmp_path / "home", tmp_path / "in", tmp_path / "out"
    home.mkdir(mode=0o700)
    inputs.mkdir()
    for p, patient in enumerate(PATIENTS):
        for i in range(2):
            _write_original(inputs / f"p{p}-{i}.dcm", patient, 10 * p + i + 1)

    policy = dataclasses.replace(Policy.preset_named("research"), pixels=PixelMode.OFF)
    config = RunConfig(policy=policy, secret=secrets.token_bytes(32), out=out, workers=1)
    vault_sink, store_sink = VaultSink(home / "vault.db", home), StoreSink(home)
    counts = BatchRunner(config, [vault_sink, store_sink]).run(discover([inputs]))
    assert counts[Status.OK] == 4
    assert vault_sink.entries == 4 and len(store_sink.addresses) == 4

    # the needles do find PHI where it is expected: in the identified originals
    assert all(
        any(n.lower() in f.read_bytes().lower() for f in inputs.iterdir()) for n in _phi_strings()
    )

    with AuditLog.open(home) as audit:
        vault = IdentityVault(home / "vault.db", home=home, audit=audit, actor="test")
        vault.add_operator("alice", PASSWORD)
        store = ImageStore(home, audit=audit, actor="test")
        # everything is still reachable through the front doors
        written = sorted(out.rglob("*.dcm"))
        pseudonym = str(dcmread(written[0]).PatientID)
        found = vault.reidentify(pseudonym, operator="alice", password=PASSWORD, reason="test")
        assert found.identity()["PatientID"] in {p["PatientID"] for p in PATIENTS}
        assert {r.subject for r in store.ls()} == {str(dcmread(f).PatientID) for f in written}
        assert store.check().ok
        # searched while the databases are open, so their -wal files are there too
        files = [p for p in home.rglob("*") if p.is_file()]
        assert any(p.name.endswith("-wal") for p in files)
        for path in files:
            content = path.read_bytes().lower()
            for needle in _phi_strings():
                assert needle.lower() not in content, f"{needle!r} in {path.relative_to(home)}"
        vault.close()
        store.close()
