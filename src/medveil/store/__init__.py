"""The encrypted image store: sealed content-addressed blobs plus a metadata index."""

from __future__ import annotations

from medveil.store.schema import StoredObject
from medveil.store.sink import StoreSink
from medveil.store.store import CheckReport, ImageStore, RewrapReport

__all__ = ["CheckReport", "ImageStore", "RewrapReport", "StoreSink", "StoredObject"]
