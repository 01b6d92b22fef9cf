"""The gateway Django project: the one public entry point in front of every service."""
