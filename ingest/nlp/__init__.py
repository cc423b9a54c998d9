"""Chinese text: identifier recognisers, clinical entities, the spaCy pipeline."""
