"""Use cases that span several tables: signing in, managing users."""
