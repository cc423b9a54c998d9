"""Neo4j access: the driver wrapper, units of work and the schema."""
