"""Read-only Cypher for analysts."""
