"""``medveil audit``: inspect, prove, checkpoint and verify the audit log, and witness it.

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

from medveil.audit import (
    AuditError,
    AuditIntegrityError,
    AuditLog,
    Signer,
    Verifier,
    cosign,
    open_checkpoint,
    verify_log,
)
from medveil.audit.merkle import leaf_hash, verify_consistency, verify_inclusion
from medveil.commands.common import home_from
from medveil.crypto.files import write_private_file

audit_app = typer.Typer(
    help="Tamper-evident audit log: show, prove, checkpoint, verify; witness cosigning."
)


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
    _emit(note, out)


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
    witness: Annotated[
        list[str] | None,
        typer.Option("--witness", help="Trusted witness verifier key (repeatable)."),
    ] = None,
    threshold: Annotated[
        int | None,
        typer.Option(
            "--threshold",
            min=1,
            help="Witness cosignatures a checkpoint needs (default with --witness: 1).",
        ),
    ] = None,
) -> None:
    """Rehash every entry and check it against signed checkpoints; exit 1 on tampering.

    With --witness, only checkpoints cosigned by enough of those witnesses count.
    """
    notes = [p.read_text(encoding="utf-8") for p in checkpoint_file] if checkpoint_file else None
    verifier = _verifier(key_text, "--key") if key_text else None
    witnesses = [_verifier(text, "--witness") for text in witness or []]
    if threshold is not None and not witnesses:
        raise typer.BadParameter("--threshold needs at least one --witness")
    needed = threshold if threshold is not None else (1 if witnesses else 0)
    with _log(ctx) as log:
        report = verify_log(log, notes, verifier, witnesses, needed)
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
            digest = leaf_hash(entry.leaf)
            ok = verify_inclusion(index, tree_size, digest, proof, root)
            result = {"index": index, "leaf": entry.leaf.decode(), "leaf_hash": _b64(digest)}
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


@audit_app.command("witness-key")
def witness_key(
    name: Annotated[str, typer.Argument(help="The witness's name, as its signatures show.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the private key (0600).")],
) -> None:
    """Create a witness signing key; print its verifier key for the log's users.

    A witness is someone other than the log operator (an ethics committee, a
    privacy officer's machine) who cosigns checkpoints after checking that each
    extends the last one it cosigned: a log rewritten behind a witnessed
    checkpoint is then detectable even by the operator's own key holders.
    """
    signer = Signer.generate(name)
    if not write_private_file(out, (signer.encode() + "\n").encode(), exclusive=True):
        raise typer.BadParameter(f"{out} exists; a witness key is never overwritten")
    typer.echo(signer.verifier.encode())


@audit_app.command("cosign")
def cosign_checkpoint(
    checkpoint_file: Annotated[Path, typer.Argument(help="The log's signed checkpoint.")],
    witness_key_file: Annotated[
        Path, typer.Option("--witness-key", help="The witness's private key file.")
    ],
    log_key: Annotated[str, typer.Option("--log-key", help="The log's verifier key.")],
    previous: Annotated[
        Path | None,
        typer.Option("--previous", help="The last checkpoint this witness cosigned."),
    ] = None,
    proof_file: Annotated[
        Path | None,
        typer.Option(
            "--proof",
            help="Consistency proof from --previous (`medveil audit prove --old-size`).",
        ),
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Also write the note here.")] = None,
) -> None:
    """As a witness: check a checkpoint and add your cosignature to it.

    The log's signature is checked; with --previous and --proof, so is that the
    new checkpoint extends the previous one (a witness refuses a forked log).
    Needs no data directory. Exit 1 if a check fails.
    """
    if (previous is None) != (proof_file is None):
        raise typer.BadParameter("give --previous and --proof together")
    text = checkpoint_file.read_text(encoding="utf-8")
    verifier = _verifier(log_key, "--log-key")
    try:
        witness = Signer.parse(witness_key_file.read_text(encoding="utf-8"))
        if previous is not None and proof_file is not None:
            _check_extends(previous.read_text(encoding="utf-8"), text, proof_file, verifier)
        note = cosign(text, witness, verifier)
    except AuditError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    _emit(note, out)


@audit_app.command("adopt")
def adopt(
    ctx: typer.Context,
    checkpoint_file: Annotated[Path, typer.Argument(help="A checkpoint with cosignatures.")],
) -> None:
    """Store a cosigned checkpoint of this log (its signatures join the stored note's)."""
    note = checkpoint_file.read_text(encoding="utf-8")
    with _log(ctx) as log:
        size = log.store_checkpoint(note).size
    typer.echo(f"stored the checkpoint of size {size}")


def _emit(note: str, out: Path | None) -> None:
    """Print a signed note, and write it to ``out`` when asked."""
    if out is not None:
        out.write_text(note, encoding="utf-8")
    typer.echo(note, nl=False)


def _verifier(text: str, option: str) -> Verifier:
    try:
        return Verifier.parse(text)
    except AuditError as exc:
        raise typer.BadParameter(f"{option}: {exc}") from None


def _check_extends(old_note: str, new_note: str, proof_file: Path, log_key: Verifier) -> None:
    """Raise AuditIntegrityError unless ``new_note`` extends ``old_note`` by the proof."""
    old, new = open_checkpoint(old_note, log_key), open_checkpoint(new_note, log_key)
    try:
        document = json.loads(proof_file.read_text(encoding="utf-8"))
        proof = [base64.b64decode(item, validate=True) for item in document["proof"]]
        sizes = (int(document["old_size"]), int(document["tree_size"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise AuditIntegrityError(f"unreadable consistency proof: {exc}") from None
    if sizes != (old.size, new.size):
        raise AuditIntegrityError(
            f"the proof is for sizes {sizes}, the checkpoints are {old.size} and {new.size}"
        )
    if not verify_consistency(old.size, new.size, old.root, new.root, proof):
        raise AuditIntegrityError(
            f"the checkpoint of size {new.size} does not extend the one of size {old.size}"
        )
