"""Run a de-identification batch over worker processes, fail closed per file.

Each worker reads a file, runs the header engine, cleans pixels (unless the
policy's pixel mode is ``off``) and stages the result as a hidden temporary
file next to its destination (fsynced unless the run asked for ``fsync=False``).
The parent receives the outcomes in input order, commits each staged file with
``os.replace`` (so duplicate instances are detected by a single process, and
the first one wins), then hands the outcome to every sink. Any exception while
a file is processed quarantines that file -- nothing of it appears under
``--out`` -- and the batch goes on.

When no pixel operation is needed (``--pixels off``) the pixel data is never
even loaded: the worker reads the header only and the writer appends the
encoded pixel data element byte for byte from the input (see ``reader``) --
unless the bytes of a JPEG / JPEG 2000 codestream contain a marker of a
metadata segment (COM, APPn, J2K COM; F28): then the file is read in full so
the engine can strip them.

Worker processes are forked from the parent when it has no other thread yet
(:meth:`BatchRunner.start`, called before a progress bar starts its refresh
thread): they then inherit the engine the parent built once, and a pool of
two costs milliseconds instead of the half second a ``forkserver`` needs to
import pydicom and compile the profile again. A parent that already runs
threads gets a ``forkserver`` pool, because forking it could copy a lock some
other thread holds.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

from pydicom.dataset import Dataset

from medveil.batch.discover import Candidate, Discovery
from medveil.batch.layout import Layout, relative_output
from medveil.batch.outcome import FileOutcome, ResultSink, Status, wants_identity
from medveil.batch.reader import (
    PIXEL_TAGS,
    PixelSpan,
    fit_native_pixel_data,
    has_transfer_syntax,
    native_pixels_fit,
    read_full,
    read_header,
    span_contains,
    stored_as_declared,
)
from medveil.batch.writer import remove_staged, stage_dataset
from medveil.deid.policy import PixelMode
from medveil.errors import DeidentificationError, UsageError

if TYPE_CHECKING:
    from medveil.deid.crosswalk import Crosswalk
    from medveil.deid.engine import Deidentifier, DeidResult
    from medveil.deid.policy import Policy


#: Header-only files per extra worker process before a pool pays for its start-up.
FILES_PER_WORKER = 8

#: Distinct library warnings kept per file in the report.
MAX_WARNING_NOTES = 10


@dataclass(frozen=True)
class RunConfig:
    """Everything a worker needs to de-identify files the same way as its siblings."""

    policy: Policy
    secret: bytes = field(repr=False)
    out: Path
    layout: Layout = Layout.STUDY
    workers: int = 1
    crosswalk: Crosswalk | None = None
    review: Path | None = None  # where pixel review thumbnails go (never under ``out``)
    fsync: bool = True  # flush each output to disk before it is committed (see writer)


@dataclass
class _Processed:
    """A worker's answer: the outcome and, when it succeeded, the staged temp file."""

    outcome: FileOutcome
    staged: Path | None = None


class _Worker:
    """Per-process state: one engine built once, reused for every file."""

    def __init__(self, config: RunConfig, collect_identity: bool) -> None:
        from medveil.deid.engine import Deidentifier
        from medveil.deid.pseudonyms import Pseudonymizer

        self.config = config
        self.collect_identity = collect_identity
        self.engine: Deidentifier = Deidentifier(
            config.policy, Pseudonymizer(config.secret, config.crosswalk)
        )

    def process(self, candidate: Candidate) -> _Processed:
        """Read, de-identify, clean pixels, stage; any exception quarantines this file.

        Library warnings (pydicom's invalid-value complaints about the input) go
        to the file's notes in the report instead of interleaving on the console.
        """
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            processed = self._process(candidate)
        seen = dict.fromkeys(str(w.message) for w in caught)
        processed.outcome.notes.extend(list(seen)[:MAX_WARNING_NOTES])
        return processed

    def _process(self, candidate: Candidate) -> _Processed:
        timings: dict[str, float] = {}
        start = last = time.perf_counter()

        def lap(stage: str) -> None:
            nonlocal last
            now = time.perf_counter()
            timings[stage] = now - last
            last = now

        notes: list[str] = []
        try:
            ds, pixels = self._read(candidate.path, notes)
            lap("read")
            result = self.engine.run(ds)
            lap("deid")
            relative = relative_output(
                self.config.layout,
                result.dataset,
                result.patient_pseudonym,
                _mirror_source(candidate),
            )
            pixel_summary = self._clean_pixels(result, review_name=relative.stem)
            lap("pixels")
            if pixels is not None:
                _check_same_encoding(ds, result.dataset)
            identity = result.identity_record() if self.collect_identity else None
            dest = self.config.out / relative
            staged = stage_dataset(result.dataset, dest, pixels, fsync=self.config.fsync)
            lap("write")
        except Exception as exc:  # fail closed: every error quarantines this file only
            timings["total"] = time.perf_counter() - start
            reason = f"{type(exc).__name__}: {exc}"
            return _Processed(
                FileOutcome(
                    candidate.path, Status.QUARANTINED, reason=reason, timings=timings, notes=notes
                )
            )
        timings["total"] = time.perf_counter() - start
        outcome = FileOutcome(
            candidate.path,
            Status.OK,
            output=dest,
            timings=timings,
            identity=identity,
            pixel_summary=pixel_summary,
            notes=notes,
        )
        return _Processed(outcome, staged)

    def _read(self, path: Path, notes: list[str]) -> tuple[Dataset, PixelSpan | None]:
        """Header only when the pixels stay untouched (their bytes are copied later)."""
        if self.config.policy.pixels is PixelMode.OFF:
            ds, pixels = read_header(path, notes)
            if stored_as_declared(ds) and (pixels is None or _copyable(ds, pixels)):
                return ds, pixels
            # Deflated or misdeclared (no pixel bytes to copy as they are), no declared
            # encoding to append raw bytes in, native data longer or shorter than its image
            # (cut or refused here), or a codestream that may carry text the engine must
            # strip (F28: JPEG COM/APPn, J2K/JPEG XL boxes, video): read it all.
            notes.clear()
            full = read_full(path, notes)
            fit_native_pixel_data(full)  # the pixel step rewrites the pixels otherwise
            return full, None
        return read_full(path, notes), None

    def _clean_pixels(self, result: DeidResult, review_name: str) -> str | None:
        """Run the pixel step unless the policy turned it off; ``None`` means skipped.

        With a review folder, the before/after thumbnails are written here, in
        the worker, named after the new SOP instance (never after the input).
        """
        mode = self.config.policy.pixels
        if mode is PixelMode.OFF:
            return None
        from medveil.pixels import clean_pixels

        review = self.config.review
        report = clean_pixels(
            result.dataset, mode=mode, phi=result.lexicon, keep_review_images=review is not None
        )
        if review is not None and report.review_before is not None:
            from medveil.pixels.review import ReviewSheet

            assert report.review_after is not None
            ReviewSheet(review).add(
                review_name, report.review_before, report.review_after, report.review_boxes
            )
        return str(report)


def _copyable(ds: Dataset, pixels: PixelSpan) -> bool:
    """Whether the pixel data element may go to the output byte for byte."""
    return (
        has_transfer_syntax(ds)
        and native_pixels_fit(ds, pixels)
        and not _may_hold_codestream_metadata(ds, pixels)
    )


def _may_hold_codestream_metadata(ds: Dataset, pixels: PixelSpan) -> bool:
    """Whether the encoded pixel bytes may hold segments the engine strips (cheap scan)."""
    from medveil.deid.codestream import HINT_OVERLAP, metadata_hint, reads_whole_stream

    syntax = str(ds.file_meta.get("TransferSyntaxUID", ""))
    if reads_whole_stream(syntax):
        return True
    pattern = metadata_hint(syntax)
    if pattern is None:
        return False
    # Past the element header (tag, VR, reserved, length): an undefined length FFFFFFFF
    # followed by the first item tag FEFF would always look like a JPEG COM marker.
    return span_contains(replace(pixels, start=pixels.start + 12), pattern, HINT_OVERLAP)


def _check_same_encoding(source: Dataset, output: Dataset) -> None:
    """Raw pixel bytes may only be appended to a header in the encoding they were read in."""
    before = source.file_meta.get("TransferSyntaxUID")
    after = getattr(output, "file_meta", Dataset()).get("TransferSyntaxUID")
    if before != after or max(output.keys(), default=0) >= min(PIXEL_TAGS):
        raise DeidentificationError("header changed encoding: pixel data cannot be carried over")


def _mirror_source(candidate: Candidate) -> PurePath:
    """Input path relative to the parent of its input root, so two roots never collide."""
    base = candidate.root.parent if candidate.root.parent != candidate.root else candidate.root
    return candidate.path.relative_to(base)


_WORKER: _Worker | None = None


def _use_worker(worker: _Worker) -> None:
    """Pool initializer of a ``fork`` pool: the parent's built worker, inherited unpickled."""
    global _WORKER
    _WORKER = worker


def _init_worker(config: RunConfig, collect_identity: bool) -> None:
    """Pool initializer of a ``forkserver`` pool: build the engine once per worker process."""
    _use_worker(_Worker(config, collect_identity))


def _process_in_worker(candidate: Candidate) -> _Processed:
    assert _WORKER is not None, "worker initializer did not run"
    return _WORKER.process(candidate)


class BatchRunner:
    """De-identify discovered files into ``config.out`` and feed every outcome to sinks.

    Use it as a context manager when the caller starts threads of its own (a
    progress bar): :meth:`start` the workers first, while the process is
    still single-threaded, so that they can be forked::

        with BatchRunner(config, sinks) as runner:
            runner.start(discovery)
            with Progress() as progress:
                runner.run(discovery, on_outcome=...)
    """

    def __init__(self, config: RunConfig, sinks: Sequence[ResultSink] = ()) -> None:
        if config.workers < 1:
            raise UsageError("--workers must be at least 1")
        self.config = config
        self.sinks = list(sinks)
        self._claimed: dict[Path, Path] = {}  # output -> input that claimed it
        self._pool: ProcessPoolExecutor | None = None
        self._local: _Worker | None = None

    def __enter__(self) -> BatchRunner:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop_pool()

    def start(self, discovery: Discovery) -> None:
        """Build the engine and start the worker processes for ``discovery`` now."""
        if self._local is not None or self._pool is not None:
            return
        collect = any(wants_identity(s) for s in self.sinks)
        workers = self._worker_count(len(discovery.candidates))
        if workers == 1:
            self._local = _Worker(self.config, collect)
        elif threading.active_count() == 1 and sys.platform.startswith("linux"):
            worker = _Worker(self.config, collect)  # built once, inherited by the forked workers
            for stream in (sys.stdout, sys.stderr):  # a child would flush its copy again
                stream.flush()
            self._pool = _started(
                ProcessPoolExecutor(
                    workers,
                    multiprocessing.get_context("fork"),
                    initializer=_use_worker,
                    initargs=(worker,),
                )
            )
        else:
            self._pool = _started(
                ProcessPoolExecutor(
                    workers,
                    _forkserver(),
                    initializer=_init_worker,
                    initargs=(self.config, collect),
                )
            )

    def run(
        self, discovery: Discovery, *, on_outcome: Callable[[FileOutcome], None] | None = None
    ) -> Counter[Status]:
        """Process everything; return the count of outcomes per status.

        Sinks are closed at the end even when one of them raised, and the
        exception is re-raised: a sink failure (vault, audit) aborts the run,
        and files staged but not yet committed are removed.
        """
        _refuse_inputs_inside(self.config.out, discovery)
        self.start(discovery)
        counts: Counter[Status] = Counter()
        outcomes = self._outcomes(discovery)
        try:
            for outcome in outcomes:
                counts[outcome.status] += 1
                for sink in self.sinks:
                    sink.accept(outcome)
                if on_outcome is not None:
                    on_outcome(outcome)
        except BaseException:
            outcomes.close()  # stops the pool: queued files are cancelled, running ones end
            remove_staged(self.config.out)
            raise
        finally:
            self._stop_pool()
            for sink in self.sinks:
                sink.close()
        return counts

    def _outcomes(self, discovery: Discovery) -> Generator[FileOutcome, None, None]:
        yield from discovery.rejected
        with closing(self._processed(discovery.candidates)) as processed_files:
            for processed in processed_files:
                yield self._commit(processed)

    def _processed(self, candidates: list[Candidate]) -> Generator[_Processed, None, None]:
        if self._local is not None:
            yield from (self._local.process(c) for c in candidates)
            return
        assert self._pool is not None, "start() did not run"
        done = 0
        try:
            for processed in self._pool.map(_process_in_worker, candidates):
                done += 1
                yield processed
        except BrokenProcessPool:
            # A worker died (crash in a native decoder, out of memory): we cannot tell
            # which file did it, so every unfinished file is quarantined, none written.
            reason = "worker process crashed; rerun these files with --workers 1 to isolate"
            remove_staged(self.config.out)  # results of finished files were lost with the pool
            for candidate in candidates[done:]:
                yield _Processed(FileOutcome(candidate.path, Status.QUARANTINED, reason=reason))
        finally:  # also on an aborted run (generator closed): do not process the rest
            self._stop_pool()

    def _stop_pool(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _worker_count(self, files: int) -> int:
        """Processes worth starting: header-only work (a few milliseconds a file) repays
        a pool only from a few files per worker on."""
        per_worker = 1 if self.config.policy.pixels is not PixelMode.OFF else FILES_PER_WORKER
        return max(1, min(self.config.workers, files // per_worker))

    def _commit(self, processed: _Processed) -> FileOutcome:
        """Move a staged file into place, unless an earlier input already claimed the path."""
        outcome, staged = processed.outcome, processed.staged
        if staged is None or outcome.output is None:
            return outcome
        first = self._claimed.get(outcome.output)
        if first is not None:
            staged.unlink(missing_ok=True)
            outcome.status = Status.SKIPPED
            outcome.reason = f"duplicate: same output path as {first.name}"
            outcome.output = None
            return outcome
        os.replace(staged, outcome.output)
        self._claimed[outcome.output] = outcome.input
        return outcome


def _started(pool: ProcessPoolExecutor) -> ProcessPoolExecutor:
    """``pool`` with its processes running: a first, empty task makes it launch them
    (a ``fork`` pool launches all of them at once, before its manager thread exists)."""
    pool.submit(int).result()
    return pool


def _forkserver() -> multiprocessing.context.BaseContext:
    """``forkserver`` where available (``spawn`` elsewhere), for parents that run threads."""
    if sys.platform.startswith("linux"):
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["medveil.batch.runner", "medveil.deid.engine"])
        return ctx
    return multiprocessing.get_context("spawn")


def _refuse_inputs_inside(out: Path, discovery: Discovery) -> None:
    """Never let a run write where its inputs live (it could replace an original)."""
    out = out.resolve()
    for candidate in discovery.candidates:
        if candidate.path.is_relative_to(out):
            raise UsageError(f"input {candidate.path} lies inside --out {out}")
