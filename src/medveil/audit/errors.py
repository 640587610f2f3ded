"""Errors raised by the audit log.

Callers treat any :class:`AuditError` from an append as "the operation was not
recorded" and refuse the operation (fail closed). :class:`AuditIntegrityError`
is the subset that means the stored log or a checkpoint failed verification.
"""

from __future__ import annotations

from medveil.errors import IntegrityError, MedveilError


class AuditError(MedveilError):
    """The audit log could not record, read or prove something; fail closed."""


class AuditIntegrityError(AuditError, IntegrityError):
    """The log, a proof or a checkpoint failed cryptographic verification."""
