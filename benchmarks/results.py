"""Write one benchmark's section of ``benchmarks/RESULTS.md``.

Each benchmark owns the block between ``<!-- BEGIN name -->`` and
``<!-- END name -->`` and rewrites only that block, so benchmarks can run in any
order (or alone) without clobbering each other's numbers.
"""

from __future__ import annotations

import fcntl
import os
import platform
import re
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")
HEADER = "# medveil benchmark results\n\nEach section is rewritten by the benchmark named in it.\n"


def machine_description() -> str:
    """One line describing the machine the numbers were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{cpu}, {os.cpu_count()} cores, {mem_gib:.0f} GiB RAM, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def write_section(name: str, markdown: str) -> Path:
    """Replace (or append) the section ``name`` of RESULTS.md with ``markdown``."""
    begin, end = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
    block = f"{begin}\n{markdown.rstrip()}\n{end}\n"
    with open(RESULTS.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        text = RESULTS.read_text() if RESULTS.exists() else HEADER
        pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end) + r"\n?", re.S)
        text = pattern.sub(lambda _: block, text) if pattern.search(text) else text + "\n" + block
        tmp = RESULTS.with_suffix(".tmp")
        tmp.write_text(text)
        os.replace(tmp, RESULTS)
    return RESULTS
