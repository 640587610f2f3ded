"""``medveil keys``: rotate the key-encryption key, crypto-shred a patient.

``rotate`` creates a new KEK version and re-wraps the data keys of every store
object and vault entry under it (no data is re-encrypted); ``--retire`` then
destroys the older versions. ``shred SUBJECT`` destroys a patient's key, which
makes every blob and vault entry of that patient unrecoverable, everywhere
(including backups) at once. Both are audited before they act.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

from medveil.audit import AuditEvent, AuditLog
from medveil.commands.common import guarded, home_from
from medveil.commands.store import DbUrl, open_store
from medveil.commands.vault import VaultPath, open_vault
from medveil.crypto import default_keyring

keys_app = typer.Typer(help="Key rotation and crypto-shredding.")


def register(app: typer.Typer) -> None:
    """Attach the ``keys`` command group to the root app."""
    app.add_typer(keys_app, name="keys")


def _audit(home: Path, action: str, object_id: str | None, **details: str | int) -> None:
    with AuditLog.open(home) as audit:
        event = AuditEvent(
            actor=getpass.getuser(), action=action, object_id=object_id, details=details
        )
        audit.append(event)


@keys_app.command("rotate")
def rotate(
    ctx: typer.Context,
    retire: Annotated[
        bool, typer.Option("--retire", help="Destroy older KEK versions after re-wrapping.")
    ] = False,
    vault_path: VaultPath = None,
    db_url: DbUrl = None,
) -> None:
    """New KEK version; re-wrap every store object's and vault entry's data key.

    With --retire the older versions are destroyed afterwards, but only when every
    blob was re-wrapped. Run it while no batch is writing, and name with --vault
    any vault kept outside the home: data under a retired version is lost.
    """
    with guarded():
        home = home_from(ctx)
        keyring = default_keyring(home)
        _audit(
            home, "keys.rotate", None, from_version=keyring.current_version(), retire=int(retire)
        )
        version = keyring.rotate()
    typer.echo(f"KEK version {version} is current")
    failures = 0
    if (home / "store").is_dir():
        with open_store(ctx, db_url) as store:
            report = store.rewrap()
        for address, reason in report.failures:
            typer.echo(f"FAIL {address}: {reason}", err=True)
        failures += len(report.failures)
        typer.echo(f"store: re-wrapped {report.rewrapped}, skipped shredded {report.shredded}")
    from medveil.vault import default_vault_path

    vault_file = vault_path or default_vault_path(home)
    if vault_file.exists():
        with open_vault(ctx, vault_file) as vault:
            rewrapped, shredded = vault.rewrap()
        typer.echo(f"vault: re-wrapped {rewrapped}, skipped shredded {shredded}")
    if failures:
        typer.echo("older KEK versions kept: some blobs could not be re-wrapped", err=True)
        raise typer.Exit(1)
    if retire:
        with guarded():
            for old in keyring.versions()[:-1]:
                keyring.retire(old)
                typer.echo(f"retired KEK version {old}")


@keys_app.command("shred")
def shred_subject(
    ctx: typer.Context,
    subject: Annotated[str, typer.Argument(help="Patient pseudonym whose key to destroy.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Destroy SUBJECT's key: all of that patient's images and vault entries become unreadable."""
    if not yes:
        typer.confirm(f"Destroy the key of {subject}? This cannot be undone", abort=True)
    with guarded():
        home = home_from(ctx)
        _audit(home, "keys.shred", subject)
        existed = default_keyring(home).shred(subject)
    typer.echo(f"shredded {subject}" if existed else f"no key for {subject}; it is now blocked")
