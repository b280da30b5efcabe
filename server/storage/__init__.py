"""Persistence: SQLAlchemy 2 async on SQLite (default) or PostgreSQL, one module per entity."""
