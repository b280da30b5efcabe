"""Alembic migrations of ShopGuard's schema."""
