"""Helpers shared by the command modules."""

from __future__ import annotations

from pathlib import Path

import typer

from medveil.home import resolve_home


def home_from(ctx: typer.Context) -> Path:
    """The data directory chosen by the global ``--home`` option (or its defaults)."""
    explicit = (ctx.find_root().obj or {}).get("home")
    return resolve_home(explicit)
