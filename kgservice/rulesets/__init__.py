"""Red-line rule sets as versioned data: upload, check, replay, two-person activation."""
