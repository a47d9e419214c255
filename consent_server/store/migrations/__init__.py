"""Alembic migrations: ``env.py`` and one file per schema change in ``versions/``."""
