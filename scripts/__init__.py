"""Maintenance scripts (fixtures for the format tests); importable so tests can call them."""
