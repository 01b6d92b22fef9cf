"""The contact_svc Django project."""
