"""Who may act: users, roles, API tokens, and the audit log of every change."""
