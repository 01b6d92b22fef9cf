"""The purchase_svc Django project."""
