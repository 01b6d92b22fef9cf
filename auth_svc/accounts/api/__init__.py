"""HTTP API of accounts: serializers, views and routes at the service root."""
