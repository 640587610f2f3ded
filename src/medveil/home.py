"""The data directory: the single place where medveil keeps state.

Resolution order: an explicit ``--home`` path, then ``MEDVEIL_HOME``, then the
platform's user data folder (``platformdirs``). The directory is created with
mode 0700 because it holds key files, the vault and the audit log.

    >>> from pathlib import Path
    >>> resolve_home(Path("/tmp/mv-doc")).name
    'mv-doc'
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

ENV_VAR = "MEDVEIL_HOME"


def resolve_home(explicit: Path | None = None, *, create: bool = True) -> Path:
    """Return the data directory, creating it (mode 0700) unless ``create`` is False."""
    if explicit is not None:
        home = explicit
    elif os.environ.get(ENV_VAR):
        home = Path(os.environ[ENV_VAR])
    else:
        home = Path(platformdirs.user_data_dir("medveil", appauthor=False))
    home = home.expanduser().resolve()
    if create:
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
    return home
