"""The SHACL rules and their case manifests, as package data (see README.md beside this file).

A package so that the wheel carries the rules and the code reads them with ``importlib.resources``
wherever it is installed."""
