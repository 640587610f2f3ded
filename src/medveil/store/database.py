"""Open the metadata index (SQLite by default, PostgreSQL by URL) and migrate it.

SQLite runs in WAL mode with ``synchronous=FULL`` so a commit is on disk when it
returns, which is what lets the store acknowledge a write after its commit.
PostgreSQL is durable on commit with its default settings.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, make_url

MIGRATIONS = Path(__file__).with_name("migrations")
URL_ENV_VAR = "MEDVEIL_STORE_URL"


def default_url(store_dir: Path) -> str:
    """``$MEDVEIL_STORE_URL`` or an SQLite file inside the store directory."""
    return os.environ.get(URL_ENV_VAR) or f"sqlite:///{store_dir / 'index.db'}"


def open_index(url: str) -> Engine:
    """An engine on ``url`` whose schema is at the newest migration."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")  # the driver medveil ships with
    if parsed.get_backend_name() == "sqlite":
        engine = _sqlite_engine(parsed.database)
    else:
        engine = create_engine(parsed, pool_pre_ping=True)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return engine


def _sqlite_engine(database: str | None) -> Engine:
    if not database or database == ":memory:":
        raise ValueError("the store index needs an SQLite file, not an in-memory database")
    path = Path(database)
    if not path.exists():
        # Create it 0600 ourselves; SQLite gives its -wal/-shm files the same mode.
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return engine
