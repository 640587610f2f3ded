"""Audit log benchmark: durable append rates and proof costs at 10^6 entries.

Run alone with ``python -m benchmarks.audit_bench`` (prints the section) or
through ``benchmarks/storage.py``, which calls :func:`run_audit_benchmark` and
records the section in benchmarks/RESULTS.md. Targets: >= 10,000 durable events/s batched;
inclusion-proof verification < 1 ms at 10^6 leaves.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.results import machine_description
from medveil.audit import AuditEvent, AuditLog, GroupCommitter, verify_log
from medveil.audit.merkle import leaf_hash, verify_consistency, verify_inclusion

LEAVES = 1_000_000
BATCH = 1_000
SINGLE_APPENDS = 2_000
PROOFS = 1_000
GROUP_THREADS = 8
GROUP_APPENDS = 1_000


def _event(i: int) -> AuditEvent:
    """A realistic event: a pseudonymised object, a purpose and two details."""
    return AuditEvent(
        actor="svc-gateway",
        action="store.get",
        object_id=f"sha256:{i:064x}",
        purpose="research",
        details={"bytes": 524_288 + i % 4096, "study": f"2.25.{i}"},
    )


def _each_ms(items: list[int], action: Callable[[int], object]) -> list[float]:
    """Milliseconds taken by ``action(item)`` for each item."""
    samples = []
    for item in items:
        start = time.perf_counter()
        action(item)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def _row(name: str, samples_ms: list[float]) -> str:
    ordered = sorted(samples_ms)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"| {name} | {statistics.mean(ordered):.3f} | {statistics.median(ordered):.3f} "
        f"| {p99:.3f} |"
    )


def run_audit_benchmark() -> str:
    """Run the audit benchmark and return its markdown section."""
    rng = random.Random(0)
    with tempfile.TemporaryDirectory(prefix="medveil-audit-bench-") as tmp:
        home = Path(tmp)
        with AuditLog.open(home) as log:
            single = _each_ms(list(range(SINGLE_APPENDS)), lambda i: log.append(_event(i)))
            group_rate = _group_commit_rate(log)

            start = time.perf_counter()
            batched_events = LEAVES - log.size
            while log.size < LEAVES:
                base = log.size
                log.append_many([_event(base + i) for i in range(min(BATCH, LEAVES - base))])
            batched_s = time.perf_counter() - start

            size, root = log.size, log.root()
            indices = [rng.randrange(size) for _ in range(PROOFS)]
            leaves = {i: leaf_hash(next(log.entries(i, i + 1)).leaf) for i in indices}
            proofs = {i: log.inclusion_proof(i) for i in indices}
            gen = _each_ms(indices, log.inclusion_proof)
            check = _each_ms(
                indices, lambda i: _require(verify_inclusion(i, size, leaves[i], proofs[i], root))
            )
            olds = [rng.randrange(1, size) for _ in range(PROOFS)]
            old_roots = {m: log.root(m) for m in olds}
            cons = {m: log.consistency_proof(m) for m in olds}
            cons_gen = _each_ms(olds, log.consistency_proof)
            cons_check = _each_ms(
                olds, lambda m: _require(verify_consistency(m, size, old_roots[m], root, cons[m]))
            )
            log.checkpoint()
            start = time.perf_counter()
            verify_log(log)
            verify_s = time.perf_counter() - start
        db_mib = (home / "audit" / "log.db").stat().st_size / 2**20

    single_rate = 1000 / statistics.mean(single)
    batched_rate = batched_events / batched_s
    lines = [
        "## Audit log",
        "",
        f"Machine: {machine_description()}. Database on the temp dir's file system,",
        "SQLite WAL with `synchronous=FULL` (every commit is fsynced before `append` returns).",
        "",
        "| measurement | result |",
        "|---|---|",
        f"| durable single `append` ({SINGLE_APPENDS:,} events) | {single_rate:,.0f} events/s "
        f"(mean {statistics.mean(single):.3f} ms) |",
        f"| durable single `append` from {GROUP_THREADS} threads via `GroupCommitter` | "
        f"{group_rate:,.0f} events/s |",
        f"| durable `append_many` of {BATCH:,} (to {LEAVES:,} entries) | "
        f"{batched_rate:,.0f} events/s (target >= 10,000) |",
        f"| database size at {LEAVES:,} entries | {db_mib:,.0f} MiB |",
        f"| full `audit verify` at {LEAVES:,} entries (rehash all) | {verify_s:.1f} s |",
        "",
        f"Proofs at {size:,} leaves ({PROOFS:,} random indices / old sizes), milliseconds:",
        "",
        "| operation | mean | median | p99 |",
        "|---|---|---|---|",
        _row("inclusion proof generation", gen),
        _row("inclusion proof verification (target < 1 ms)", check),
        _row("consistency proof generation", cons_gen),
        _row("consistency proof verification", cons_check),
    ]
    return "\n".join(lines) + "\n"


def _group_commit_rate(log: AuditLog) -> float:
    """Events/s when GROUP_THREADS threads each append single events concurrently."""
    with GroupCommitter(log) as committer:

        def work() -> None:
            for i in range(GROUP_APPENDS):
                committer.append(_event(i))

        threads = [threading.Thread(target=work) for _ in range(GROUP_THREADS)]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return GROUP_THREADS * GROUP_APPENDS / (time.perf_counter() - start)


def _require(ok: bool) -> None:
    if not ok:
        raise AssertionError("benchmark proof did not verify")


def main() -> None:
    """Run the benchmark alone and print it; ``benchmarks.storage`` records it in RESULTS.md."""
    print(run_audit_benchmark())


if __name__ == "__main__":
    main()
