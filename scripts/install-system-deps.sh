#!/usr/bin/env bash
# Install the Debian packages the test suite needs as real peers:
#   dcmtk          - storescu/findscu/dcmdump, the reference DICOM peer
#   postgresql     - the production database option of the store
#   fonts-noto-cjk - a CJK font to burn Chinese text into test images
# Installs only what is missing; needs root (or sudo) when something is.
set -euo pipefail
packages=(dcmtk postgresql fonts-noto-cjk)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
echo "installing system packages: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
