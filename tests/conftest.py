"""Fixtures shared across the test suite.

Keep this file small: fixtures used by one test module belong in that module.
Sections: sample data (the ``samples`` extra), a throw-away data directory, the
synthetic PHI corpus, and running the real ``medveil`` console script.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import phi_corpus
from medveil.audit import AuditLog

# --- sample data (pydicom-data, deid-data) -------------------------------------------------


@pytest.fixture(scope="session")
def pydicom_samples() -> Path:
    """pydicom-data's folder of sample files (RG1_UNCR.dcm, MR2_J2KR.dcm, ...)."""
    import data_store

    return Path(data_store.__file__).parent / "data"


@pytest.fixture(scope="session")
def deid_samples() -> Path:
    """deid-data's folder (animals/, humans/, dicom-cookies/, ultrasounds/)."""
    import deid_data

    return Path(deid_data.__file__).parent / "data"


# --- data directory ------------------------------------------------------------------------


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh medveil data directory, also exported as MEDVEIL_HOME."""
    path = tmp_path / "home"
    path.mkdir(mode=0o700)
    monkeypatch.setenv("MEDVEIL_HOME", str(path))
    return path


@pytest.fixture
def audit(home: Path) -> Iterator[AuditLog]:
    """The home's audit log, open for the test's duration."""
    with AuditLog.open(home) as log:
        yield log


# --- synthetic PHI corpus ------------------------------------------------------------------


@pytest.fixture(scope="session")
def phi_files(tmp_path_factory: pytest.TempPathFactory) -> list[phi_corpus.CorpusFile]:
    """A small read-only corpus: every roster person, charset and small base image.

    20 files = 5 roster people x 2 studies x 2 images; tests must not modify them.
    """
    folder = tmp_path_factory.mktemp("phi-corpus")
    return phi_corpus.write_corpus(folder, 20, seed=7)


@pytest.fixture(scope="session")
def phi_root(phi_files: list[phi_corpus.CorpusFile]) -> Path:
    """The folder holding ``phi_files`` (PHI in its folder and file names too)."""
    return phi_files[0].path.parents[3]


# --- the real CLI --------------------------------------------------------------------------

MEDVEIL = Path(sys.executable).with_name("medveil")


@pytest.fixture
def medveil(home: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the installed ``medveil`` console script with ``--home`` set to ``home``."""

    def run(*args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        command = [str(MEDVEIL), "--home", str(home), *map(str, args)]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout)

    return run
