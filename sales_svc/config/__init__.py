"""The sales_svc Django project."""
