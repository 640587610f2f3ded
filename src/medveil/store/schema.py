"""The store's metadata index: one row per stored object, nothing identifying.

Columns hold only what survives de-identification: the patient pseudonym,
study/series/SOP UIDs that the header engine already replaced, modality and
sizes. The schema is created and evolved only by the Alembic migrations in
``migrations/``; this module is the ORM view of it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of the store index."""


class StoredObject(Base):
    """An acknowledged object: its blob is durable before this row is committed."""

    __tablename__ = "objects"

    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject: Mapped[str | None] = mapped_column(String(128), index=True)
    study_uid: Mapped[str | None] = mapped_column(String(64), index=True)
    series_uid: Mapped[str | None] = mapped_column(String(64))
    sop_uid: Mapped[str | None] = mapped_column(String(64))
    modality: Mapped[str | None] = mapped_column(String(16))
    size: Mapped[int] = mapped_column(BigInteger)
    sealed_size: Mapped[int] = mapped_column(BigInteger)
    cipher: Mapped[str] = mapped_column(String(16))
    stored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
