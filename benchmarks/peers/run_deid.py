"""Run pydicom/deid over a folder with its default recipe (runs in ``.venv-bench``).

``deid`` has no folder-to-folder command line, so this is the smallest faithful
driver: list the files with ``deid.dicom.get_files`` and call
``replace_identifiers`` with ``DeidRecipe()`` (which loads the bundled default
``deid.dicom`` recipe), saving into the output folder.

    .venv-bench/bin/python benchmarks/peers/run_deid.py INPUT_DIR OUTPUT_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

from deid.config import DeidRecipe
from deid.dicom import get_files, replace_identifiers


def main(source: Path, out: Path) -> None:
    """De-identify every DICOM file under ``source`` into ``out`` (flat, original names)."""
    out.mkdir(parents=True, exist_ok=True)
    files = list(get_files(str(source)))
    replace_identifiers(files, deid=DeidRecipe(), save=True, output_folder=str(out))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
