"""Accounts: users, their roles, tokens and password resets (CONTRACT §5 Auth)."""
