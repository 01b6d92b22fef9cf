"""Assertion helpers for the contract's envelopes."""

from __future__ import annotations


def error(status: int, error_type: str, message: str, details=None) -> dict:
    return {"status": status, "error": {"type": error_type, "message": message, "details": details}}


def field_errors(*pairs: tuple[str, str]) -> dict:
    return error(400, "validation", "Validation failed.", [{"field": field, "message": msg} for field, msg in pairs])


UNAUTHENTICATED = error(401, "unauthorized", "Authentication credentials were not provided.")
FORBIDDEN = error(403, "forbidden", "Your role does not allow this operation.")
