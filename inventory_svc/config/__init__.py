"""The inventory_svc Django project."""
