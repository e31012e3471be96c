"""People and their roles (company member, facilitator, admin), login and the audit log."""
