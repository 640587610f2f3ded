"""``medveil watermark embed`` and ``medveil trace``: forensic watermarks on exports.

``embed`` writes a copy of an image (DICOM, PNG or JPEG) carrying an invisible
export id registered to a recipient and purpose; ``trace`` reads the id back
from a leaked copy and prints who it was exported to. Exit codes: 0 found /
written, 1 no watermark found or operation refused (e.g. the audit log cannot
record it), 2 usage error.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from medveil.commands.common import home_from
from medveil.errors import MedveilError

watermark_app = typer.Typer(help="Forensic watermarks on exported images.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Attach ``watermark`` (group) and ``trace`` (top level) to the root app."""
    app.add_typer(watermark_app, name="watermark")
    app.command("trace")(trace)


@contextmanager
def _exit_codes(refused: str) -> Iterator[None]:
    """The module's exit codes: 2 for unusable input (ValueError), 1 for a refused operation."""
    try:
        yield
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    except (MedveilError, OSError) as exc:
        typer.echo(f"{refused}: {exc}", err=True)
        raise typer.Exit(1) from exc


def _parse_box(text: str | None) -> tuple[int, int, int, int] | None:
    if text is None:
        return None
    try:
        x, y, width, height = (int(part) for part in text.split(","))
    except ValueError:
        raise typer.BadParameter(
            "expected x,y,width,height in pixels", param_hint="--roi"
        ) from None
    return x, y, width, height


@watermark_app.command("embed")
def embed(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Image to export.")],
    target: Annotated[Path, typer.Argument(dir_okay=False, help="Watermarked copy to write.")],
    recipient: Annotated[str, typer.Option("--recipient", help="Who receives the export.")],
    purpose: Annotated[str, typer.Option("--purpose", help="Why it is exported.")],
    roi: Annotated[
        str | None,
        typer.Option("--roi", help="Region left untouched: x,y,width,height (pixels)."),
    ] = None,
    roi_mask: Annotated[
        Path | None,
        typer.Option(
            "--roi-mask", exists=True, dir_okay=False, help="Mask image; non-zero = untouched."
        ),
    ] = None,
) -> None:
    """Write a copy of SOURCE to TARGET carrying a new, registered export id."""
    from medveil.watermark import export_file  # numpy/cv2: import when used

    box = _parse_box(roi)
    with _exit_codes("export refused, nothing written"):
        record = export_file(
            home_from(ctx),
            source,
            target,
            recipient=recipient,
            purpose=purpose,
            actor=getpass.getuser(),
            box=box,
            mask_file=roi_mask,
        )
    typer.echo(f"export {record.label} -> {target} (recipient {recipient!r})")


def trace(
    ctx: typer.Context,
    leaked: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="Leaked DICOM, PNG or JPEG.")
    ],
) -> None:
    """Read the watermark of LEAKED and print the export it came from."""
    from medveil.watermark import format_export_id, trace_file
    from medveil.watermark.detect import FALSE_POSITIVE_LIMIT

    with _exit_codes("trace refused"):
        result = trace_file(home_from(ctx), leaked, actor=getpass.getuser())
    found = result.detection
    confidence = f"false-positive probability <= {found.false_positive:.1e}"
    if found.export_id is None and found.present:
        typer.echo(
            f"watermark present ({confidence}) but its export id is unreadable: "
            "the copy may combine several exports, or be too degraded"
        )
        raise typer.Exit(1)
    if found.export_id is None:
        typer.echo(
            f"no watermark found ({confidence}; a mark is reported only below "
            f"{FALSE_POSITIVE_LIMIT:.0e})"
        )
        raise typer.Exit(1)
    typer.echo(f"export id: {format_export_id(found.export_id)}")
    typer.echo(f"confidence: {confidence} (z = {found.z_score:.1f})")
    record = result.record
    if record is None:
        typer.echo("registry: no such export in this home's registry")
        return
    typer.echo(f"recipient: {record.recipient}")
    typer.echo(f"purpose: {record.purpose}")
    typer.echo(f"exported at: {record.created_at.isoformat(timespec='seconds')} by {record.actor}")
    if record.instances:
        typer.echo("instances: " + ", ".join(record.instances))
