"""Test helpers shared by every service's suite: tokens, clients, real-infrastructure guards."""

from .tokens import auth_client, issue_token

__all__ = ["auth_client", "issue_token"]
