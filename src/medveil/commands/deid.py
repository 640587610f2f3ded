"""``medveil deid``: de-identify DICOM files and folders into a new folder.

Exit codes: 0 every DICOM file was de-identified, 1 some were quarantined (or
a sink such as the vault failed and the run stopped), 2 usage error (unknown
option, missing input, output overlapping the inputs...).
The batch runner and the engine (pydicom and all) are imported only when the
command runs, so that every other ``medveil`` command starts fast.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from medveil.batch.layout import MIRROR_WARNING, Layout
from medveil.batch.outcome import ResultSink
from medveil.commands.common import home_from
from medveil.errors import MedveilError, UsageError

if TYPE_CHECKING:
    from medveil.batch.report import BatchReport
    from medveil.deid.crosswalk import Crosswalk
    from medveil.deid.policy import PixelMode, Policy

SECRET_FILE = "pseudonym.key"


@dataclasses.dataclass(frozen=True)
class BatchRequest:
    """A fully parsed ``deid`` invocation (also what ``medveil demo`` builds)."""

    inputs: list[Path]
    out: Path
    policy: Policy
    workers: int
    layout: Layout = Layout.STUDY
    quarantine: Path | None = None
    report: Path | None = None
    crosswalk: Path | None = None
    vault: Path | None = None
    review: Path | None = None
    store: bool = False
    fsync: bool = True


def build_policy(
    profile: str, options: list[str], policy_file: Path | None, pixels: str | None
) -> Policy:
    """Preset with the default pixel mode (``phi``), then the YAML policy file (its
    ``pixels:`` wins over that default), then ``--option``s, then ``--pixels`` if given."""
    from medveil.deid.policy import PixelMode, Policy
    from medveil.profiles.options import PRESETS, Option

    if profile not in PRESETS:
        raise UsageError(f"unknown --profile {profile!r}; choose from {', '.join(PRESETS)}")
    modes = [mode.value for mode in PixelMode]
    if pixels is not None and pixels not in modes:
        raise UsageError(f"unknown --pixels {pixels!r}; choose from {', '.join(modes)}")
    valid = {o.value: o for o in Option}
    unknown = [o for o in options if o not in valid]
    if unknown:
        raise UsageError(f"unknown --option {', '.join(unknown)}; choose from {', '.join(valid)}")
    policy = with_pixel_mode(Policy.preset_named(profile), PixelMode.PHI)
    if policy_file is not None:
        if not policy_file.is_file():
            raise UsageError(f"--policy file not found: {policy_file}")
        policy = Policy.from_yaml(policy_file, base=policy)
    if options:
        policy = policy.with_options(*(valid[o] for o in options))
    return with_pixel_mode(policy, policy.pixels if pixels is None else PixelMode(pixels))


def with_pixel_mode(policy: Policy, mode: PixelMode) -> Policy:
    """Set the pixel mode keeping the invariant ``OFF <=> CLEAN_PIXEL_DATA absent``."""
    from medveil.deid.policy import PixelMode
    from medveil.profiles.options import Option

    clean = {Option.CLEAN_PIXEL_DATA}
    options = policy.options - clean if mode is PixelMode.OFF else policy.options | clean
    return dataclasses.replace(policy, options=frozenset(options), pixels=mode)


def execute(request: BatchRequest, home: Path, console: Console) -> BatchReport:
    """Run one batch with a progress bar; return the (closed) report."""
    from medveil.batch.audit_sink import AuditSink
    from medveil.batch.discover import discover
    from medveil.batch.quarantine import QuarantineSink
    from medveil.batch.report import BatchReport
    from medveil.batch.runner import BatchRunner, RunConfig
    from medveil.deid.secret import load_or_create_secret

    for item in request.inputs:
        if not item.exists():
            raise UsageError(f"input does not exist: {item}")
    if request.layout is Layout.MIRROR:
        console.print(f"[yellow]warning:[/] {MIRROR_WARNING}")
    pixels_off = request.policy.pixels.value == "off"
    if request.review is not None and pixels_off:
        console.print("[yellow]warning:[/] --review has no effect with --pixels off")
    if pixels_off:
        console.print("[yellow]warning:[/] --pixels off: burned-in text is NOT removed")
    _refuse_overlaps(request)
    excluded = [request.out] + ([request.quarantine] if request.quarantine else [])
    discovery = discover(request.inputs, exclude=excluded)
    description = _run_description(request)
    report = BatchReport(description)
    sinks: list[ResultSink] = [report]
    if request.quarantine is not None:
        sinks.append(QuarantineSink(request.quarantine))
    sinks.append(AuditSink(home, out=request.out, layout=request.layout, run=description))
    if request.vault is not None:
        from medveil.vault import VaultSink

        sinks.append(VaultSink(request.vault, home))
    if request.store:
        from medveil.store import StoreSink

        sinks.append(StoreSink(home))
    config = RunConfig(
        policy=request.policy,
        secret=load_or_create_secret(home / SECRET_FILE),
        out=request.out,
        layout=request.layout,
        workers=request.workers,
        crosswalk=_crosswalk(request.crosswalk),
        review=None if pixels_off else request.review,
        fsync=request.fsync,
    )
    total = len(discovery.candidates) + len(discovery.rejected)
    with BatchRunner(config, sinks) as runner:
        runner.start(discovery)  # forks the workers before the progress bar starts a thread
        with Progress(
            TextColumn("de-identifying"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task("deid", total=total)
            runner.run(discovery, on_outcome=lambda _: progress.advance(task))
    if config.review is not None:
        from medveil.pixels.review import ReviewSheet

        console.print(f"review sheet: {ReviewSheet(config.review).finish()}")
    if request.report is not None:
        report.write(request.report)
    return report


def _refuse_overlaps(request: BatchRequest) -> None:
    """Files that name originals (report, quarantine) must never land in the shared output."""
    out = request.out.resolve()
    if request.report is not None and request.report.resolve().is_relative_to(out):
        raise UsageError("--report must not be inside --out: it lists input paths")
    for name, folder in (("--quarantine", request.quarantine), ("--review", request.review)):
        if folder is None:
            continue
        resolved = folder.resolve()
        if resolved.is_relative_to(out) or out.is_relative_to(resolved):
            # quarantined originals and "before" thumbnails show PHI
            raise UsageError(f"{name} must not be inside --out (nor contain it)")


def _run_description(request: BatchRequest) -> dict[str, Any]:
    """PHI-free parameters recorded in the report (the pixel mode above all)."""
    policy = request.policy
    return {
        "preset": policy.preset,
        "options": sorted(o.value for o in policy.options),
        "pixels": policy.pixels.value,
        "layout": request.layout.value,
        "workers": request.workers,
        "out": str(request.out),
        "quarantine": str(request.quarantine) if request.quarantine else None,
        "crosswalk": request.crosswalk is not None,
        "vault": request.vault is not None,
        "review": str(request.review) if request.review else None,
        "store": request.store,
        "fsync": request.fsync,
    }


def _crosswalk(path: Path | None) -> Crosswalk | None:
    if path is None:
        return None
    if not path.is_file():
        raise UsageError(f"--crosswalk file not found: {path}")
    from medveil.deid.crosswalk import Crosswalk

    return Crosswalk.from_csv(path)


def deid(
    ctx: typer.Context,
    inputs: Annotated[list[Path], typer.Argument(help="DICOM files or folders (recursive).")],
    out: Annotated[Path, typer.Option("--out", help="Output folder for de-identified files.")],
    profile: Annotated[str, typer.Option(help="Preset: research (default) or basic.")] = (
        "research"
    ),
    option: Annotated[
        list[str] | None, typer.Option("--option", help="Extra PS3.15 option (repeatable).")
    ] = None,
    policy: Annotated[Path | None, typer.Option("--policy", help="YAML policy file.")] = None,
    pixels: Annotated[
        str | None,
        typer.Option(
            help="Burned-in text: off | all-text | phi (default: the policy file's, else phi)."
        ),
    ] = None,
    workers: Annotated[
        int, typer.Option(help="Worker processes (default: CPU count).", show_default=False)
    ] = 0,
    layout: Annotated[Layout, typer.Option(help="study (default) or mirror (may leak PHI).")] = (
        Layout.STUDY
    ),
    quarantine: Annotated[
        Path | None, typer.Option(help="Folder collecting copies of quarantined originals.")
    ] = None,
    report: Annotated[Path | None, typer.Option(help="Write the JSON report here.")] = None,
    crosswalk: Annotated[
        Path | None, typer.Option(help="CSV: original,replacement (+ optional kind) pseudonyms.")
    ] = None,
    vault: Annotated[Path | None, typer.Option(help="Store original identities here.")] = None,
    review: Annotated[
        Path | None, typer.Option(help="Before/after pixel review sheets (outside --out).")
    ] = None,
    store: Annotated[
        bool, typer.Option("--store", help="Also keep every output encrypted in the store.")
    ] = False,
    fsync: Annotated[
        bool,
        typer.Option(
            help="Flush each output to disk before it is committed. --no-fsync keeps writes "
            "atomic but leaves flushing to the OS (like cp): faster, and a power cut may "
            "lose the newest outputs."
        ),
    ] = True,
) -> None:
    """De-identify DICOM files (PS3.15 Annex E) into --out; research preset by default."""
    console = Console(stderr=True)
    try:
        request = BatchRequest(
            inputs=inputs,
            out=out,
            policy=build_policy(profile, option or [], policy, pixels),
            workers=workers or os.cpu_count() or 1,
            layout=layout,
            quarantine=quarantine,
            report=report,
            crosswalk=crosswalk,
            vault=vault,
            review=review,
            store=store,
            fsync=fsync,
        )
        result = execute(request, home_from(ctx), console)
    except UsageError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    except MedveilError as exc:  # a sink (vault, audit) failed: the run stopped, fail closed
        console.print(f"[red]run aborted:[/] {type(exc).__name__}: {exc}")
        raise typer.Exit(1) from exc
    result.print_summary(Console())
    raise typer.Exit(1 if result.quarantined else 0)


def register(app: typer.Typer) -> None:
    """Attach ``medveil deid`` to the root app."""
    app.command("deid")(deid)
