"""Security: the CA and mutual TLS, the audit log, join tokens, users, roles and scopes."""
