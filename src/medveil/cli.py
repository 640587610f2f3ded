"""The ``medveil`` command line.

Each command group lives in :mod:`medveil.commands` and registers itself on the
root app, so this module only assembles them and owns the global ``--home``.
Exit codes: 0 success, 1 some files quarantined / verification failed, 2 usage error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from medveil import __version__
from medveil.commands import register_all

app = typer.Typer(
    name="medveil",
    help="Privacy gateway for medical images.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"medveil {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option("--home", help="Data directory (default: $MEDVEIL_HOME, else user data dir)."),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show version.")
    ] = False,
) -> None:
    ctx.obj = {"home": home}


register_all(app)


def main() -> None:
    """Console-script entry point."""
    app()
