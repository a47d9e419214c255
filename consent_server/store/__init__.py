"""Storage on SQLAlchemy Core: the same code path for SQLite and PostgreSQL."""
