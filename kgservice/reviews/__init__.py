"""The review committee's queue: escalated decisions and break-glass overrides."""
