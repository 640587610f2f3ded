"""``medveil demo``: de-identify the bundled sample images (what ``make run`` does).

The samples come from the ``pydicom-data`` and ``deid-data`` packages (the
``samples`` extra), located through the packages themselves. A few of them are
broken on purpose (pydicom's ``bad_sequence.dcm``, a truncated JPEG 2000 file):
they are quarantined and listed, which is the fail-closed behaviour the demo is
meant to show, so the demo still exits 0 as long as some files were written.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from medveil.batch.layout import Layout
from medveil.commands.common import home_from
from medveil.commands.deid import BatchRequest, build_policy, execute
from medveil.errors import UsageError

SAMPLE_PACKAGES = ("data_store", "deid_data")


def sample_files() -> list[Path]:
    """Every ``.dcm`` file shipped in the sample packages (archives such as ``.zip`` skipped)."""
    files: list[Path] = []
    for package in SAMPLE_PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is None or spec.origin is None:
            raise UsageError(f"sample package {package!r} missing: pip install 'medveil[samples]'")
        files.extend(sorted((Path(spec.origin).parent / "data").rglob("*.dcm")))
    return files


def demo(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("demo-out"),
) -> None:
    """De-identify the sample images with the research preset and print a summary."""
    console = Console(stderr=True)
    home = home_from(ctx)
    try:
        request = BatchRequest(
            inputs=sample_files(),
            out=out,
            policy=build_policy("research", [], None, "phi"),
            workers=os.cpu_count() or 1,
            layout=Layout.STUDY,
            report=home / "demo-report.json",
        )
        report = execute(request, home, console)
    except UsageError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    report.print_summary(Console())
    Console().print(f"de-identified files in {out}/, report in {request.report}")
    raise typer.Exit(0 if report.counts["ok"] else 1)


def register(app: typer.Typer) -> None:
    """Attach ``medveil demo`` to the root app."""
    app.command("demo")(demo)
