"""Payloads hidden inside a binary or text value: compressed streams and base64.

Vendors keep whole documents in private elements: an XML report compressed
with zlib or gzip inside an OB blob (Hologic), or the same XML base64-encoded
inside an LT. Searching the stored bytes finds no name in either. When a
private element is kept (Retain Safe Private), its payloads are unpacked here
and searched too; one level deep, within fixed budgets, so that a crafted
value cannot make a file cost minutes.

>>> import base64, zlib
>>> report = b"<patient>SMITH^JOHN</patient>"
>>> hidden = b"HDR" + zlib.compress(report) + b" <b64>" + base64.b64encode(report) + b"</b64>"
>>> [payload == report for payload in embedded_payloads(hidden)]
[True, True]
"""

from __future__ import annotations

import base64
import binascii
import itertools
import re
import zlib
from collections.abc import Iterator

#: zlib headers (deflate, 32K window, each compression level) and the gzip magic
_STREAM_START = re.compile(rb"\x78[\x01\x5e\x9c\xda]|\x1f\x8b\x08")
_BASE64_RUN = re.compile(rb"[A-Za-z0-9+/]{24,}={0,2}")
MAX_CANDIDATES = 64  # stream starts tried per value (random bytes hold a few by chance)
MAX_PAYLOAD = 4 * 1024 * 1024  # bytes unpacked per stream: a decompression bomb stops here
MAX_TOTAL = 16 * 1024 * 1024  # bytes unpacked per value, streams and base64 together


def embedded_payloads(value: bytes) -> list[bytes]:
    """The compressed streams and base64 runs inside ``value``, unpacked (not recursively),
    until :data:`MAX_TOTAL` bytes have been unpacked."""
    payloads: list[bytes] = []
    budget = MAX_TOTAL
    for payload in _unpacked(value):
        payloads.append(payload[:budget])
        budget -= len(payload)
        if budget <= 0:
            break
    return payloads


def _unpacked(value: bytes) -> Iterator[bytes]:
    for match in itertools.islice(_STREAM_START.finditer(value), MAX_CANDIDATES):
        inflated = _inflate(value, match.start())
        if inflated:
            yield inflated
    for match in _BASE64_RUN.finditer(value):
        run = match.group()
        try:
            yield base64.b64decode(run + b"=" * (-len(run) % 4))
        except (binascii.Error, ValueError):
            continue


def _inflate(value: bytes, start: int) -> bytes:
    """The stream starting at ``start`` inflated (zlib or gzip), or b"" if it is none."""
    wbits = 31 if value[start] == 0x1F else 15  # gzip header, or zlib header
    inflater = zlib.decompressobj(wbits)
    try:
        return inflater.decompress(value[start:], MAX_PAYLOAD)
    except zlib.error:
        return b""
