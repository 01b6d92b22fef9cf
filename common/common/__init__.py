"""Shared building blocks of the ERP services.

Imported by every service, never run on its own. Domain code does not live here.
"""
