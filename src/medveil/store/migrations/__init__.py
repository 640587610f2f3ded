"""Alembic migrations of the store index, run programmatically when a store opens."""
