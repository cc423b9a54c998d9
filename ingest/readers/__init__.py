"""Readers: bytes of one format in, ``Extracted`` out. They read; they do not judge."""
