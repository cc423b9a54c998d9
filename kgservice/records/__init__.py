"""Records: submission, protection, storage, reading, and the contribution log."""
