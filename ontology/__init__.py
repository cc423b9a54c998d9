"""The health-data ontology (``health.ttl``), as package data (see README.md beside this file).

A package so that the wheel carries it and the code reads it with ``importlib.resources``
wherever it is installed."""
