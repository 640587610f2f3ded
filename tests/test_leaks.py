"""No injected PHI token survives any preset/option combination, and utility stays.

The PHI corpus (``phi_corpus``) is de-identified under each combination and the
whole output tree -- contents and names -- is searched by ``leakscan``. Only
the token kinds an option is defined to keep (``RETAINED_BY_OPTION``) may
remain. Utility checks make sure the engine did not get there by deleting
everything: image attributes and pixel bytes, PHI-free descriptions, UID
consistency and date intervals within a patient.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from pathlib import Path

import numpy as np
import pydicom
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom.uid import generate_uid

import phi_corpus
from leakscan import Leak, scan_mapped
from medveil.batch.discover import discover
from medveil.batch.outcome import FileOutcome, Status
from medveil.batch.runner import BatchRunner, RunConfig
from medveil.deid.engine import Deidentifier
from medveil.deid.policy import PixelMode, Policy
from medveil.deid.pseudonyms import Pseudonymizer
from medveil.profiles.options import Option

SECRET = b"leak-test-secret-0123456789abcde"
IMAGE_KEYWORDS = (
    "Modality",
    "Rows",
    "Columns",
    "BitsAllocated",
    "BitsStored",
    "PhotometricInterpretation",
    "SamplesPerPixel",
    "BodyPartExamined",
)

COMBOS: list[tuple[str, tuple[str, ...]]] = [
    ("basic", ()),
    ("research", ()),
    ("basic", ("retain-long-full-dates",)),
    ("research", ("retain-safe-private",)),
    ("research", ("retain-uids", "retain-device-identity", "retain-institution-identity")),
    ("basic", ("clean-descriptors", "clean-structured-content", "retain-patient-characteristics")),
    (
        "basic",
        ("retain-long-modified-dates", "clean-graphics", "clean-recognizable-visual-features"),
    ),
]


def policy_for(preset: str, options: tuple[str, ...]) -> Policy:
    base = Policy.preset_named(preset).with_options(*(Option(o) for o in options))
    return Policy(options=base.options, preset=base.preset, pixels=PixelMode.OFF)


class _Collect:
    def __init__(self) -> None:
        self.outcomes: list[FileOutcome] = []

    def accept(self, outcome: FileOutcome) -> None:
        self.outcomes.append(outcome)

    def close(self) -> None:
        pass


def deidentify_tree(root: Path, out: Path, policy: Policy) -> list[FileOutcome]:
    sink = _Collect()
    BatchRunner(RunConfig(policy=policy, secret=SECRET, out=out), [sink]).run(discover([root]))
    return sink.outcomes


def describe(leaks: list[Leak], out: Path) -> str:
    return "\n".join(
        f"{leak.kind:12} {leak.token!r:32} {leak.location} in {leak.path.relative_to(out)}"
        for leak in leaks[:40]
    )


@pytest.mark.parametrize(("preset", "options"), COMBOS, ids=["+".join((p, *o)) for p, o in COMBOS])
def test_no_token_survives(
    preset: str,
    options: tuple[str, ...],
    phi_root: Path,
    phi_files: list[phi_corpus.CorpusFile],
    tmp_path: Path,
) -> None:
    policy = policy_for(preset, options)
    outcomes = deidentify_tree(phi_root, tmp_path / "out", policy)
    retained = (phi_corpus.RETAINED_BY_OPTION.get(o.value, frozenset()) for o in policy.options)
    allowed = frozenset[str]().union(*retained)
    tokens_of_input = {f.path.resolve(): f.tokens for f in phi_files}
    tokens_of = {o.output.resolve(): tokens_of_input[o.input] for o in outcomes if o.output}
    leaks = scan_mapped(tmp_path / "out", tokens_of, allowed=allowed)
    assert not leaks, f"{len(leaks)} surviving tokens:\n" + describe(leaks, tmp_path / "out")
    # Quarantine is fail-closed, not a leak -- but a clean corpus must not need it.
    assert [o.reason for o in outcomes if o.status is not Status.OK] == []


@pytest.fixture(scope="module")
def research_run(
    phi_root: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[Path, pydicom.Dataset]:
    """Input path -> de-identified data set, research preset with pixels off."""
    out = tmp_path_factory.mktemp("research-out")
    outcomes = deidentify_tree(phi_root, out, policy_for("research", ()))
    assert all(o.status is Status.OK for o in outcomes), [o.reason for o in outcomes if o.reason]
    return {o.input: pydicom.dcmread(o.output) for o in outcomes if o.output is not None}


def test_image_and_clean_text_unchanged(
    research_run: dict[Path, pydicom.Dataset], phi_files: list[phi_corpus.CorpusFile]
) -> None:
    for corpus_file in phi_files:
        original = pydicom.dcmread(corpus_file.path)
        result = research_run[corpus_file.path.resolve()]
        for keyword in IMAGE_KEYWORDS:
            assert result.get(keyword) == original.get(keyword), keyword
        assert result.file_meta.TransferSyntaxUID == original.file_meta.TransferSyntaxUID
        if result.PixelData != original.PixelData:  # a J2K encoder COM was removed (F28)
            assert original.file_meta.TransferSyntaxUID.is_compressed
            assert np.array_equal(result.pixel_array, original.pixel_array)
        # PHI-free descriptors survive Clean Descriptors untouched.
        assert result.SeriesDescription == "PA ERECT"
        assert result.RequestedProcedureDescription == "XR CHEST 2 VIEWS"


def test_uids_consistent_within_a_run(
    research_run: dict[Path, pydicom.Dataset], phi_files: list[phi_corpus.CorpusFile]
) -> None:
    new_for: dict[str, set[str]] = defaultdict(set)
    for corpus_file in phi_files:
        result = research_run[corpus_file.path.resolve()]
        new_for[corpus_file.study_uid].add(result.StudyInstanceUID)
        new_for[corpus_file.series_uid].add(result.SeriesInstanceUID)
    assert all(len(v) == 1 for v in new_for.values())
    assert len({next(iter(v)) for v in new_for.values()}) == len(new_for)  # injective


def test_date_intervals_within_a_patient_preserved(
    research_run: dict[Path, pydicom.Dataset], phi_files: list[phi_corpus.CorpusFile]
) -> None:
    by_patient: dict[str, list[tuple[dt.date, dt.date]]] = defaultdict(list)
    for corpus_file in phi_files:
        result = research_run[corpus_file.path.resolve()]
        shifted = dt.datetime.strptime(result.StudyDate, "%Y%m%d").date()
        by_patient[corpus_file.patient_id].append((corpus_file.study_date, shifted))
    for pairs in by_patient.values():
        offsets = {shifted - original for original, shifted in pairs}
        assert len(offsets) == 1, offsets
        assert offsets != {dt.timedelta(0)}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    layout=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2)), min_size=1, max_size=6),
    seed=st.integers(0, 2**16),
)
def test_uid_mapping_is_a_function_across_runs(layout: list[tuple[int, int]], seed: int) -> None:
    """Same original UID -> same new UID, in one run and in a later run with the same key."""
    rng = random.Random(seed)
    patient = phi_corpus.make_patient(rng, phi_corpus.ROSTER[0])
    studies = [phi_corpus.make_study(rng, patient) for _ in range(3)]
    series = [[generate_uid() for _ in range(3)] for _ in range(3)]
    policy = policy_for("research", ())
    runs = [Deidentifier(policy, Pseudonymizer(SECRET)) for _ in range(2)]
    mapping: dict[str, set[str]] = defaultdict(set)
    for study_index, series_index in layout:
        study = studies[study_index]
        study.series_uid = series[study_index][series_index]
        ds, _ = phi_corpus.build_dataset(study, "ct", "ISO_IR 192", rng)
        for run in runs:
            result = run.run(ds).dataset
            mapping[study.study_uid].add(result.StudyInstanceUID)
            mapping[study.series_uid].add(result.SeriesInstanceUID)
            mapping[str(ds.SOPInstanceUID)].add(result.SOPInstanceUID)
    assert all(len(new) == 1 for new in mapping.values())
    news = [next(iter(new)) for new in mapping.values()]
    assert len(set(news)) == len(news)
    assert not set(news) & set(mapping)
