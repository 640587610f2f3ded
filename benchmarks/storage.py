"""Storage benchmark: envelope encryption vs raw ``cryptography``, the store, the audit log.

Run from the repository root: ``python -m benchmarks.storage``. It measures

* AES-256-GCM and SM4-GCM throughput through :class:`medveil.crypto.Envelope`
  against the raw ``cryptography`` primitive on the very same buffers (the
  ceiling); the target is an envelope overhead within 10% of raw AES-GCM;
* store write (seal + durable blob + committed SQLite row, fsync included) and
  read (decrypt + digest check) throughput for chest-radiograph-sized objects;
* the audit log section from ``benchmarks/audit_bench.py``.

Raw and envelope runs are interleaved and the median is reported, so load from
other processes on a shared machine hits both sides alike. The numbers go to the
``storage`` section of ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import os
import secrets
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from tests.store_instances import make_instance

from benchmarks.results import machine_description, write_section
from medveil.audit import AuditLog
from medveil.crypto import Envelope, LocalKeyring
from medveil.crypto.buffers import uninitialized
from medveil.store import ImageStore

MIB = 1 << 20
SIZES = (7 * MIB, 64 * MIB)
REPEATS = {"aes-256-gcm": 41, "sm4-gcm": 9}  # SM4 runs at ~1% of AES speed
STORE_OBJECTS = 20
RADIOGRAPH_SIDE = 1866  # 1866² 16-bit pixels: about 7 MB, like a 2048 x 1700 radiograph
WORK = Path(__file__).with_name(".work")
CRYPTO_NOTE = (
    "Raw = the fastest use of `cryptography` on the same buffer: one-shot "
    "`encrypt_into`/`decrypt_into` (SM4: `update_into`) into a preallocated, non-zeroed "
    "buffer of the sealed blob's size. Overhead = raw / envelope - 1 (target for "
    "AES-256-GCM: within 10%). The envelope adds a fresh DEK, checking the key files, "
    "HKDF of the wrapping key, the DEK wrap and the header; the object itself is encrypted "
    "by one call straight into the output buffer. 7 MiB buffers stay in cache (GB/s); "
    "64 MiB ones are bound by memory bandwidth."
)  # on the repository's disk, not a tmpfs


def _seconds(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def _interleaved_mbs(
    raw: Callable[[], object], env: Callable[[], object], size: int, repeats: int
) -> tuple[float, float]:
    """Median MB/s of raw and envelope, alternating runs so background load hits both."""
    raw_s, env_s = [], []
    for _ in range(repeats):
        raw_s.append(_seconds(raw))
        env_s.append(_seconds(env))
    return size / MIB / statistics.median(raw_s), size / MIB / statistics.median(env_s)


def _envelope_ops(
    envelope: Envelope, data: bytes
) -> tuple[Callable[[], object], Callable[[], object]]:
    sealed = envelope.seal(data, object_id="bench", subject="MV-BENCH")
    return (
        lambda: envelope.seal(data, object_id="bench", subject="MV-BENCH"),
        lambda: envelope.open(sealed, object_id="bench"),
    )


def _raw_aes(
    key: bytes, data: bytes, header: int
) -> tuple[Callable[[], object], Callable[[], object]]:
    """The fastest raw AES-GCM: one-shot calls into preallocated, non-zeroed buffers.

    The output buffer has the sealed blob's size (``header`` bytes more) so both
    sides get the same treatment from the allocator: glibc serves a block just
    above its adaptive mmap threshold with fresh, kernel-zeroed pages, which
    would otherwise be measured instead of the envelope.
    """
    aead, nonce, aad = AESGCM(key), secrets.token_bytes(12), b"object-id"
    sealed = aead.encrypt(nonce, data, aad)

    def encrypt() -> memoryview:
        out = uninitialized(header + len(data) + 16)
        aead.encrypt_into(nonce, data, aad, out[header:])
        return out

    def decrypt() -> memoryview:
        out = uninitialized(len(data))
        aead.decrypt_into(nonce, sealed, aad, out)
        return out

    return encrypt, decrypt


def _raw_sm4(
    key: bytes, data: bytes, header: int
) -> tuple[Callable[[], object], Callable[[], object]]:
    """The fastest raw SM4-GCM the Cipher API allows: update_into, no extra copies."""
    nonce, aad = secrets.token_bytes(12), b"object-id"

    def encrypt() -> memoryview:
        enc = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
        enc.authenticate_additional_data(aad)
        out = uninitialized(header + len(data) + 16)
        written = enc.update_into(data, out[header:])
        enc.finalize()
        out[header + written :] = enc.tag
        return out

    sealed = encrypt()[header:]

    def decrypt() -> memoryview:
        dec = Cipher(algorithms.SM4(key), modes.GCM(nonce, bytes(sealed[-16:]))).decryptor()
        dec.authenticate_additional_data(aad)
        out = uninitialized(len(data) + 15)
        dec.update_into(sealed[:-16], out)
        dec.finalize()
        return out

    return encrypt, decrypt


def crypto_table(keyring: LocalKeyring) -> str:
    """Markdown table: raw vs envelope MB/s per cipher, size and direction."""
    rows = [
        "| cipher | object | op | raw `cryptography` MB/s | medveil envelope MB/s | overhead |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for cipher, raw_factory in (("aes-256-gcm", _raw_aes), ("sm4-gcm", _raw_sm4)):
        envelope = Envelope(keyring, cipher)
        key_size = envelope.cipher.key_size
        for size in SIZES:
            data = os.urandom(size)
            header = len(envelope.seal(b"", object_id="bench", subject="MV-BENCH")) - 16
            raw_ops = raw_factory(secrets.token_bytes(key_size), data, header)
            env_ops = _envelope_ops(envelope, data)
            for op, raw, env in zip(("seal", "open"), raw_ops, env_ops, strict=True):
                raw_mbs, env_mbs = _interleaved_mbs(raw, env, size, REPEATS[cipher])
                rows.append(
                    f"| {cipher} | {size // MIB} MiB | {op} | {raw_mbs:,.0f} | {env_mbs:,.0f} "
                    f"| {100 * (raw_mbs / env_mbs - 1):+.1f}% |"
                )
    return "\n".join(rows)


def fixed_cost_line(keyring: LocalKeyring) -> str:
    """The per-object cost of the envelope itself: sealing and opening an empty object."""
    envelope = Envelope(keyring)
    sealed = envelope.seal(b"", object_id="fixed", subject="MV-BENCH")
    seal_us = 1e6 * statistics.median(
        _seconds(lambda: envelope.seal(b"", object_id="fixed", subject="MV-BENCH"))
        for _ in range(2001)
    )
    open_us = 1e6 * statistics.median(
        _seconds(lambda: envelope.open(sealed, object_id="fixed")) for _ in range(2001)
    )
    return (
        f"Fixed envelope cost per object (empty object, warm caches): seal {seal_us:.0f} µs, "
        f"open {open_us:.0f} µs. A cache-resident 7 MiB object takes only ~0.7 ms of "
        "AES-GCM, so this fixed cost (larger with cold caches) is what shows at 7 MiB; "
        "against a durable store put (below) it is well under 1%."
    )


def store_table(home: Path) -> str:
    """Markdown table: durable store put / verified get throughput for ~7 MB objects."""
    objects = [
        make_instance(f"MV-BENCH{i % 4}", seed=i, side=RADIOGRAPH_SIDE)
        for i in range(STORE_OBJECTS)
    ]
    size = statistics.mean(len(o) for o in objects)
    with AuditLog.open(home) as audit:
        store = ImageStore(home, audit=audit, actor="bench")
        put_s, get_s = [], []
        addresses = []
        for data in objects:
            start = time.perf_counter()
            addresses.append(store.put(data))
            put_s.append(time.perf_counter() - start)
        for address in addresses:
            start = time.perf_counter()
            store.get(address)
            get_s.append(time.perf_counter() - start)
        store.close()
    rows = [
        f"{STORE_OBJECTS} objects of {size / MIB:.1f} MiB, SQLite index, AES-256-GCM; "
        "a put is acknowledged only after blob fsync, directory fsync and index commit.",
        "",
        "| op | median ms/object | MB/s (median) |",
        "|---|---:|---:|",
    ]
    for op, samples in (("put (durable)", put_s), ("get (decrypt + verify)", get_s)):
        median = statistics.median(samples)
        rows.append(f"| {op} | {1000 * median:.1f} | {size / MIB / median:,.0f} |")
    return "\n".join(rows)


def _audit_section() -> str:
    try:
        from benchmarks.audit_bench import run_audit_benchmark
    except ImportError as exc:
        return f"_audit part skipped: {exc}_"
    return run_audit_benchmark()


def main() -> None:
    """Run every part and rewrite the ``storage`` section of RESULTS.md."""
    WORK.mkdir(exist_ok=True)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    home = Path(tempfile.mkdtemp(prefix="storage-", dir=WORK))
    try:
        keyring = LocalKeyring(home / "keyring")
        crypto = crypto_table(keyring)
        fixed = fixed_cost_line(keyring)
        store = store_table(home)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    markdown = "\n".join(
        [
            "## Storage: envelope encryption, encrypted store, audit log",
            "",
            f"Machine: {machine_description()}; load average at start {load} "
            "(other work on the machine slows both sides of each comparison alike).",
            "",
            "### Envelope vs raw `cryptography` (median of interleaved runs)",
            "",
            CRYPTO_NOTE,
            "",
            crypto,
            "",
            fixed,
            "",
            "### Encrypted store",
            "",
            store,
            "",
            _audit_section(),
        ]
    )
    path = write_section("storage", markdown)
    print(markdown)
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
