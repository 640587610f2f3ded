"""Exception hierarchy shared by every medveil module.

Fail-closed handling depends on these types: anything raised while a file is
being de-identified quarantines that file (with ``str(exc)`` as the reason) and
the batch goes on with the next one.
"""

from __future__ import annotations


class MedveilError(Exception):
    """Base class of every error medveil raises on purpose."""


class UsageError(MedveilError):
    """The caller asked for something invalid (bad option, bad path); CLI exit code 2."""


class DeidentificationError(MedveilError):
    """A file could not be fully de-identified; it must be quarantined, never written."""


class PixelCleaningError(DeidentificationError):
    """Burned-in text could not be removed, or the pixels could not be decoded/encoded."""


class IntegrityError(MedveilError):
    """Stored data failed authentication or digest verification (tampering, corruption)."""


class AccessDenied(MedveilError):
    """An operation was refused by an access check; the refusal itself is audited."""
