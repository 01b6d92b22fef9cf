"""The gateway's hand-written reverse proxy, its routing table, health aggregate and merged OpenAPI document."""
