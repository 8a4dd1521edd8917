"""Alerts: the rules (pure), the alert lifecycle (pure transitions), the service
that stores and announces them, and the scheduled offline check."""
