"""Principals, API keys, roles and institution scope — checked in one place (``access.py``)."""
