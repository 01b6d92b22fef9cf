"""Test-only app: a table where test handlers record what they applied."""
