"""Helpers shared by the command modules."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from medveil.audit import AuditError
from medveil.errors import MedveilError, UsageError
from medveil.home import resolve_home


def home_from(ctx: typer.Context) -> Path:
    """The data directory chosen by the global ``--home`` option (or its defaults)."""
    explicit = (ctx.find_root().obj or {}).get("home")
    return resolve_home(explicit)


@contextmanager
def guarded() -> Iterator[None]:
    """Turn medveil's errors into a one-line message and the documented exit code."""
    try:
        yield
    except AuditError as exc:
        typer.echo(f"refused: the audit log could not record this operation ({exc})", err=True)
        raise typer.Exit(1) from exc
    except UsageError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    except MedveilError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
