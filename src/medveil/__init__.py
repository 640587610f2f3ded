"""medveil: a privacy gateway for medical images.

The library API is small on purpose::

    >>> import pydicom, medveil
    >>> ds = pydicom.dcmread("chest.dcm")                     # doctest: +SKIP
    >>> clean = medveil.deidentify(ds, medveil.Policy.preset_named("research"))  # doctest: +SKIP

Everything else (the batch runner, the vault, the store, the audit log and the
watermark) is reached through its own subpackage or through the ``medveil`` CLI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["Policy", "__version__", "deidentify"]
__version__ = "0.1.0"

if TYPE_CHECKING:
    from medveil.deid.engine import deidentify
    from medveil.deid.policy import Policy


def __getattr__(name: str) -> Any:
    # Imported lazily so that `import medveil` stays cheap for the CLI and workers.
    if name == "deidentify":
        from medveil.deid.engine import deidentify

        return deidentify
    if name == "Policy":
        from medveil.deid.policy import Policy

        return Policy
    raise AttributeError(f"module 'medveil' has no attribute {name!r}")
