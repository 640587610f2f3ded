"""Run Kitware's dicom-anonymizer over a folder tree (runs in ``.venv-bench``).

Its command line (``dicom-anonymizer IN OUT``) only lists the top level of a
folder and needs the output folder to exist, so on a nested corpus it would
process nothing. This driver walks the tree and calls, per file, the same
library function the command line calls (``anonymize_dicom_file`` with its
default rules, private tags deleted), writing into a flat output folder.

    .venv-bench/bin/python benchmarks/peers/run_dicom_anonymizer.py INPUT_DIR OUTPUT_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

from dicomanonymizer.simpledicomanonymizer import anonymize_dicom_file


def main(source: Path, out: Path) -> None:
    """Anonymize every file under ``source`` into ``out/<n>.dcm``; report failures, go on."""
    out.mkdir(parents=True, exist_ok=True)
    failures = 0
    for index, path in enumerate(sorted(p for p in source.rglob("*") if p.is_file())):
        try:
            anonymize_dicom_file(str(path), str(out / f"{index:06d}.dcm"))
        except Exception as exc:  # a peer's failure on one file must not stop the run
            failures += 1
            print(f"{path.name}: {type(exc).__name__}: {exc}", file=sys.stderr)
    if failures:
        print(f"{failures} files failed", file=sys.stderr)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
