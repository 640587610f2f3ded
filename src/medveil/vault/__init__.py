"""The identity vault: pseudonym -> sealed original identity, for authorised operators."""

from __future__ import annotations

from medveil.vault.records import StoredIdentity
from medveil.vault.sink import VaultSink
from medveil.vault.vault import IdentityVault, Reidentification, default_vault_path

__all__ = [
    "IdentityVault",
    "Reidentification",
    "StoredIdentity",
    "VaultSink",
    "default_vault_path",
]
