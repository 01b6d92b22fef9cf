"""Accounts: users, their roles, tokens and password resets (contract §5 Auth)."""
