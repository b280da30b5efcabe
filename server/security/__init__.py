"""Passwords, signing keys, tokens and login throttling."""
