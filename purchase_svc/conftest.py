"""The suite's fixtures from the test kit: the order services' faked dependencies, the outbox, event delivery."""

pytest_plugins = ["erp_testkit.orders"]
