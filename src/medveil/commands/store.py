"""``medveil store``: put, get, list and verify de-identified instances, encrypted at rest.

Exit codes: 0 success, 1 an integrity failure, a refused audit append or a
refused access, 2 usage error (unknown object, file not de-identified, ...).
``store check`` exits 1 when any indexed object fails to decrypt or to match
its address. Nothing printed here names an input file: file names can carry PHI.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from medveil.audit import AuditLog
from medveil.commands.common import guarded, home_from
from medveil.crypto import CIPHERS, DEFAULT_CIPHER
from medveil.crypto.files import write_private_file
from medveil.errors import UsageError

if TYPE_CHECKING:
    from medveil.store import ImageStore

store_app = typer.Typer(help="Encrypted image store: put, get, ls, check.")

DbUrl = Annotated[
    str | None,
    typer.Option(
        "--db-url",
        help="Index database URL (default: $MEDVEIL_STORE_URL or SQLite in the home dir).",
    ),
]


def register(app: typer.Typer) -> None:
    """Attach the ``store`` command group to the root app."""
    app.add_typer(store_app, name="store")


@contextmanager
def open_store(
    ctx: typer.Context, url: str | None, cipher: str = DEFAULT_CIPHER
) -> Iterator[ImageStore]:
    """The home's store with its audit log, closed afterwards; errors become exit codes."""
    from medveil.store import ImageStore  # SQLAlchemy is heavy: import only when used

    with guarded():
        home = home_from(ctx)
        with AuditLog.open(home) as audit:
            store = ImageStore(home, audit=audit, actor=getpass.getuser(), url=url, cipher=cipher)
            try:
                yield store
            finally:
                store.close()


@store_app.command("put")
def put(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="De-identified DICOM files.")],
    db_url: DbUrl = None,
    cipher: Annotated[
        str, typer.Option("--cipher", help=f"One of: {', '.join(CIPHERS)}.")
    ] = DEFAULT_CIPHER,
) -> None:
    """Store files; prints each object's address once it is durable."""
    with open_store(ctx, db_url, cipher) as store:
        for path in files:
            if not path.is_file():
                raise UsageError(f"not a file: {path}")
            typer.echo(store.put_file(path))


@store_app.command("get")
def get(
    ctx: typer.Context,
    address: Annotated[str, typer.Argument(help="Object address (from put or ls).")],
    out: Annotated[Path, typer.Argument(help="Where to write the decrypted DICOM file.")],
    db_url: DbUrl = None,
) -> None:
    """Decrypt one object, verify it against its address and write it to OUT."""
    target = out.resolve()
    with open_store(ctx, db_url) as store:
        if not target.parent.is_dir():
            raise UsageError(f"output folder does not exist: {target.parent}")
        try:
            data = store.get(address)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        write_private_file(target, data)


@store_app.command("ls")
def ls(
    ctx: typer.Context,
    subject: Annotated[
        str | None, typer.Option("--subject", help="Only this patient pseudonym.")
    ] = None,
    db_url: DbUrl = None,
) -> None:
    """List stored objects: address, pseudonym, modality, size, study UID (tab-separated)."""
    with open_store(ctx, db_url) as store:
        for row in store.ls(subject):
            fields = (row.address, row.subject, row.modality, str(row.size), row.study_uid)
            typer.echo("\t".join(f or "-" for f in fields))


@store_app.command("check")
def check(ctx: typer.Context, db_url: DbUrl = None) -> None:
    """Decrypt every object and prove it matches its address; exit 1 on any failure."""
    with open_store(ctx, db_url) as store:
        report = store.check()
    for address, reason in report.failures:
        typer.echo(f"FAIL {address}: {reason}", err=True)
    typer.echo(
        f"verified {report.verified}, failed {len(report.failures)}, "
        f"shredded {report.shredded}, unindexed blobs {report.unindexed_blobs}, "
        f"leftover temp files {report.leftover_temps}"
    )
    if not report.ok:
        raise typer.Exit(1)
