#!/usr/bin/env bash
# Run every benchmark side by side with its peers and rewrite benchmarks/RESULTS.md.
# Each peer lives in its own virtual environment so its pins never touch the
# project's .venv; the benchmarks create or reuse them:
#   .venv-bench         dicognito, pydicom/deid, dicom-anonymizer   (deid_headers)
#   .venv-bench-pixels  presidio-image-redactor + Debian tesseract   (pixels)
#   .venv-bench-wm      invisible-watermark                          (watermark)
# Run on an otherwise idle machine: the numbers are wall-clock.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

if [ ! -x .venv-bench-wm/bin/python ]; then
    python3 -m venv .venv-bench-wm
    # invisible-watermark imports torch although dwtDct/dwtDctSvd never use it;
    # torch==2.13.0 is the CPU wheel this machine kind serves.
    .venv-bench-wm/bin/pip install -q --no-deps invisible-watermark==0.2.0
    .venv-bench-wm/bin/pip install -q torch==2.13.0 PyWavelets numpy opencv-python-headless \
        Pillow pydicom pydicom-data deid-data sqlalchemy cryptography typer platformdirs pyyaml rich
    .venv-bench-wm/bin/pip install -q --no-deps -e .
fi

$PY -m benchmarks.deid_headers
$PY -m benchmarks.pixels
$PY -m benchmarks.storage        # includes the audit log part (benchmarks/audit_bench.py)
.venv-bench-wm/bin/python -m benchmarks.watermark
