"""CLI command groups; each module exposes ``register(app)``."""

from __future__ import annotations

import typer


def register_all(app: typer.Typer) -> None:
    """Attach every command group to the root app."""
    from medveil.commands import deid

    deid.register(app)
