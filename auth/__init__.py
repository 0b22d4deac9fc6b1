"""Login, roles, API tokens and the audit log."""
