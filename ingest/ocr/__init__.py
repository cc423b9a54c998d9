"""Optical character recognition of scanned sheets: the engine, pages, and layout."""
