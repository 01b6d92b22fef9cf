"""What the original implementation's Postman collection creates (tests/compat/), for clash tests.

Its users run that collection against a fresh local run, so no seeded demo record may
take one of these emails, SKUs or names (a unique email or SKU would answer 409, a
shared name would make its searches find demo data).
"""

POSTMAN_EMAILS = frozenset(
    {
        "finance@example.com",
        "john.doe@example.com",
        "john.doe.updated@example.com",
        "john.updated@example.com",
        "contact@abcsuppliers.com",
        "updated@abcsuppliers.com",
    }
)
POSTMAN_SKUS = frozenset({"LAPTOP-001", "LAPTOP-001-UPDATED"})
POSTMAN_NAMES = frozenset(
    {
        "John Doe",
        "John Doe Updated",
        "ABC Suppliers",
        "ABC Suppliers Updated",
        "Laptop Computer",
        "Laptop Computer Updated",
    }
)
