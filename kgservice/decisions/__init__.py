"""Compliance decisions: requests checked against the red lines in ``shapes/redlines.ttl``."""
