"""The auth_svc Django project."""
