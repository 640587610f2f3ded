"""``medveil reidentify`` and ``medveil vault operator ...``: guarded access to identities.

Re-identification needs a registered operator, the operator's password (from
``$MEDVEIL_OPERATOR_PASSWORD`` for scripts, otherwise a hidden prompt) and a
reason. Every attempt is audited, allowed or denied. Exit codes: 0 identity
printed (JSON), 1 denied / audit refused / unreadable, 2 usage error.
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from medveil.audit import AuditLog
from medveil.commands.common import guarded, home_from
from medveil.errors import AccessDenied

if TYPE_CHECKING:
    from medveil.vault import IdentityVault

PASSWORD_ENV_VAR = "MEDVEIL_OPERATOR_PASSWORD"

vault_app = typer.Typer(help="Identity vault administration.")
operator_app = typer.Typer(help="Operators allowed to re-identify.")
vault_app.add_typer(operator_app, name="operator")

VaultPath = Annotated[
    Path | None, typer.Option("--vault", help="Vault file (default: vault.db in the home dir).")
]
OperatorName = Annotated[str, typer.Argument(help="Operator name.")]


def register(app: typer.Typer) -> None:
    """Attach ``reidentify`` and the ``vault`` group to the root app."""
    app.command("reidentify")(reidentify)
    app.add_typer(vault_app, name="vault")


@contextmanager
def open_vault(ctx: typer.Context, path: Path | None) -> Iterator[IdentityVault]:
    """The vault with the home's audit log, closed afterwards; errors become exit codes."""
    from medveil.vault import IdentityVault, default_vault_path  # heavy: import when used

    with guarded():
        home = home_from(ctx)
        with AuditLog.open(home) as audit:
            vault = IdentityVault(
                path or default_vault_path(home), home=home, audit=audit, actor=getpass.getuser()
            )
            try:
                yield vault
            finally:
                vault.close()


def _password(confirm: bool) -> str:
    from_env = os.environ.get(PASSWORD_ENV_VAR)
    if from_env is not None:
        return from_env
    return str(typer.prompt("Operator password", hide_input=True, confirmation_prompt=confirm))


def reidentify(
    ctx: typer.Context,
    pseudonym: Annotated[str, typer.Argument(help="The patient pseudonym (de-identified ID).")],
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded in the audit log).")],
    operator: Annotated[str, typer.Option("--operator", help="Registered operator name.")],
    vault_path: VaultPath = None,
) -> None:
    """Print the original identity behind PSEUDONYM (JSON), for an authorised operator."""
    password = _password(confirm=False)
    with open_vault(ctx, vault_path) as vault:
        try:
            found = vault.reidentify(pseudonym, operator=operator, password=password, reason=reason)
        except AccessDenied as exc:
            typer.echo(f"denied: {exc}", err=True)
            raise typer.Exit(1) from exc
        typer.echo(json.dumps(found.as_dict(), indent=2, ensure_ascii=False))


@operator_app.command("add")
def operator_add(
    ctx: typer.Context,
    name: OperatorName,
    vault_path: VaultPath = None,
) -> None:
    """Register NAME (or change its password); the password is prompted for twice."""
    password = _password(confirm=True)
    with open_vault(ctx, vault_path) as vault:
        vault.add_operator(name, password)
    typer.echo(f"operator {name} registered")


@operator_app.command("remove")
def operator_remove(
    ctx: typer.Context,
    name: OperatorName,
    vault_path: VaultPath = None,
) -> None:
    """Remove NAME; exit 1 if there was no such operator."""
    with open_vault(ctx, vault_path) as vault:
        removed = vault.remove_operator(name)
    if not removed:
        typer.echo(f"no operator {name}", err=True)
        raise typer.Exit(1)


@operator_app.command("list")
def operator_list(ctx: typer.Context, vault_path: VaultPath = None) -> None:
    """Print the registered operator names."""
    with open_vault(ctx, vault_path) as vault:
        for name in vault.operator_names():
            typer.echo(name)
