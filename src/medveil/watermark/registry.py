"""The export registry: which export id went to whom, for what, when, with which instances.

Every watermarked export gets a fresh random 32-bit id (the payload the mark
carries). The registry (SQLite via SQLAlchemy at ``home/watermark/exports.db``)
maps that id to the recipient, purpose, time, acting user and the exported
SOP Instance UIDs. Recipient and purpose are sealed with the home's envelope
encryption (:mod:`medveil.crypto`), bound to the export id, so a copy of the
database file alone does not say who received what.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from medveil.crypto import Envelope, default_keyring
from medveil.watermark.tile import ID_BITS


class _Base(DeclarativeBase):
    pass


class _Export(_Base):
    __tablename__ = "exports"

    export_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(200))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    instances: Mapped[list[_Instance]] = relationship(
        back_populates="export", cascade="all, delete-orphan", order_by="_Instance.position"
    )


class _Instance(_Base):
    __tablename__ = "export_instances"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    export_id: Mapped[int] = mapped_column(ForeignKey("exports.export_id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    sop_instance_uid: Mapped[str] = mapped_column(String(64), index=True)
    export: Mapped[_Export] = relationship(back_populates="instances")


@dataclass(frozen=True)
class ExportRecord:
    """One registered export."""

    export_id: int
    recipient: str
    purpose: str
    created_at: datetime
    actor: str
    instances: tuple[str, ...]

    @property
    def label(self) -> str:
        """The export id as printed to people: 8 hex digits."""
        return format_export_id(self.export_id)


def format_export_id(export_id: int) -> str:
    """``0x1a2b3c4d`` -> ``"1A2B3C4D"``."""
    return f"{export_id:08X}"


def _object_id(export_id: int) -> str:
    return f"watermark-export-{format_export_id(export_id)}"


class ExportRegistry:
    """The export registry of one medveil home."""

    def __init__(self, home: Path) -> None:
        folder = home / "watermark"
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = folder / "exports.db"
        if not path.exists():
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        self._engine = create_engine(f"sqlite:///{path}")
        _Base.metadata.create_all(self._engine)
        self._envelope = Envelope(default_keyring(home))

    def close(self) -> None:
        """Release the database connection pool."""
        self._engine.dispose()

    @contextmanager
    def reserve(
        self, *, recipient: str, purpose: str, actor: str, instances: tuple[str, ...]
    ) -> Iterator[ExportRecord]:
        """Allocate a new export id and register it when the ``with`` block succeeds.

        The row is committed only after the block (which marks and writes the
        image, and audits the export) returns; an exception rolls it back.
        """
        with Session(self._engine) as session, session.begin():
            export_id = self._fresh_id(session)
            record = ExportRecord(
                export_id, recipient, purpose, datetime.now(UTC), actor, instances
            )
            secret = json.dumps({"recipient": recipient, "purpose": purpose}).encode()
            row = _Export(
                export_id=export_id,
                created_at=record.created_at,
                actor=actor,
                sealed=bytes(self._envelope.seal(secret, object_id=_object_id(export_id))),
            )
            row.instances = [
                _Instance(position=i, sop_instance_uid=uid) for i, uid in enumerate(instances)
            ]
            session.add(row)
            session.flush()
            yield record

    @staticmethod
    def _fresh_id(session: Session) -> int:
        while True:
            candidate = secrets.randbits(ID_BITS)
            if session.get(_Export, candidate) is None:
                return candidate

    def lookup(self, export_id: int) -> ExportRecord | None:
        """The export registered under ``export_id``, decrypted; None if unknown."""
        with Session(self._engine) as session:
            row = session.scalars(select(_Export).where(_Export.export_id == export_id)).first()
            if row is None:
                return None
            opened = self._envelope.open(row.sealed, object_id=_object_id(export_id))
            secret = json.loads(bytes(opened))
            created = row.created_at.replace(tzinfo=row.created_at.tzinfo or UTC)
            uids = tuple(item.sop_instance_uid for item in row.instances)
            return ExportRecord(
                export_id, secret["recipient"], secret["purpose"], created, row.actor, uids
            )
