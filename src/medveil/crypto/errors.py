"""Errors of the crypto layer.

Both are :class:`~medveil.errors.IntegrityError` subclasses so that callers that
only care about "this blob cannot be trusted or read" catch one type, while
``store check`` can still tell a deliberately shredded subject (expected) from a
key that went missing (a failure).
"""

from __future__ import annotations

from medveil.errors import IntegrityError


class KeyUnavailable(IntegrityError):
    """A key a blob refers to is not in the keyring (retired, lost or never existed)."""


class KeyDestroyed(KeyUnavailable):
    """The subject's key was crypto-shredded; its data is unrecoverable by design."""
