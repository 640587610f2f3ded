"""``medveil audit``: inspect, prove, checkpoint and verify the audit log.

Proofs and keys are printed in formats other tools read: proofs as JSON with
base64 hashes (RFC 9162 order), checkpoints as C2SP signed notes and the log
key as a note verifier key. Exit code 1 means verification failed.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from medveil.audit import AuditError, AuditLog, Verifier, verify_log
from medveil.audit.merkle import leaf_hash, verify_consistency, verify_inclusion
from medveil.commands.common import home_from

audit_app = typer.Typer(help="Tamper-evident audit log: show, prove, checkpoint, verify.")


def register(app: typer.Typer) -> None:
    """Attach the ``audit`` command group to the root app."""
    app.add_typer(audit_app, name="audit")


@contextmanager
def _log(ctx: typer.Context) -> Iterator[AuditLog]:
    """The home's audit log; any AuditError becomes a message and exit code 1."""
    try:
        with AuditLog.open(home_from(ctx)) as log:
            yield log
    except AuditError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@audit_app.command("key")
def key(ctx: typer.Context) -> None:
    """Print the log's verifier key (give it to whoever checks checkpoints)."""
    with _log(ctx) as log:
        typer.echo(log.signer.verifier.encode())


@audit_app.command("checkpoint")
def checkpoint(
    ctx: typer.Context,
    out: Annotated[
        Path | None, typer.Option("--out", help="Also write the checkpoint to this file.")
    ] = None,
) -> None:
    """Sign, store and print a checkpoint of the log at its current size."""
    with _log(ctx) as log:
        note = log.checkpoint()
    if out is not None:
        out.write_text(note, encoding="utf-8")
    typer.echo(note, nl=False)


@audit_app.command("verify")
def verify(
    ctx: typer.Context,
    checkpoint_file: Annotated[
        list[Path] | None,
        typer.Option(
            "--checkpoint",
            help="Verify against this checkpoint (repeatable); default: stored ones.",
        ),
    ] = None,
    key_text: Annotated[
        str | None,
        typer.Option("--key", help="Trusted verifier key (default: the key in the data dir)."),
    ] = None,
) -> None:
    """Rehash every entry and check it against signed checkpoints; exit 1 on tampering."""
    notes = [p.read_text(encoding="utf-8") for p in checkpoint_file] if checkpoint_file else None
    with _log(ctx) as log:
        verifier = Verifier.parse(key_text) if key_text else None
        report = verify_log(log, notes, verifier)
    anchor = report.anchor
    typer.echo(
        f"OK: {report.size} entries verified; consistent with the checkpoint of size "
        f"{anchor.size} (root {_b64(anchor.root)}); {len(report.checkpoints)} checkpoint(s) checked"
    )


@audit_app.command("prove")
def prove(
    ctx: typer.Context,
    index: Annotated[
        int | None, typer.Option("--index", help="Inclusion proof for this entry.")
    ] = None,
    old_size: Annotated[
        int | None, typer.Option("--old-size", help="Consistency proof from this tree size.")
    ] = None,
    size: Annotated[
        int | None, typer.Option("--size", help="Tree size to prove against (default: current).")
    ] = None,
) -> None:
    """Print an inclusion or consistency proof as JSON (checked before printing)."""
    if index is not None and old_size is not None:
        raise typer.BadParameter("give only one of --index and --old-size")
    with _log(ctx) as log:
        tree_size = log.size if size is None else size
        root = log.root(tree_size)
        if index is not None:
            entry = next(log.entries(index, index + 1), None)
            if entry is None:
                raise typer.BadParameter(f"no entry {index}")
            proof = log.inclusion_proof(index, tree_size)
            ok = verify_inclusion(index, tree_size, leaf_hash(entry.leaf), proof, root)
            result = {
                "index": index,
                "leaf": entry.leaf.decode(),
                "leaf_hash": _b64(leaf_hash(entry.leaf)),
            }
        elif old_size is not None:
            proof = log.consistency_proof(old_size, tree_size)
            old_root = log.root(old_size)
            ok = verify_consistency(old_size, tree_size, old_root, root, proof)
            result = {"old_size": old_size, "old_root": _b64(old_root)}
        else:
            raise typer.BadParameter("give --index or --old-size")
    if not ok:
        typer.echo("error: the generated proof does not verify (corrupt node cache?)", err=True)
        raise typer.Exit(1)
    result |= {"tree_size": tree_size, "root": _b64(root), "proof": [_b64(p) for p in proof]}
    typer.echo(json.dumps(result, indent=2, ensure_ascii=False))


@audit_app.command("show")
def show(
    ctx: typer.Context,
    tail: Annotated[
        int | None, typer.Option("--tail", min=1, help="Only the last N entries.")
    ] = None,
) -> None:
    """Print entries as JSON lines (index, then the stored canonical event)."""
    with _log(ctx) as log:
        start = 0 if tail is None else max(0, log.size - tail)
        for entry in log.entries(start):
            typer.echo(f'{{"index":{entry.index},"event":{entry.leaf.decode()}}}')
