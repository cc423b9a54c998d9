"""A real Neo4j 5.26 Community server without Docker, assembled from Maven Central jars, and
`shield neo4j` (``cli``) that runs it.

Development tooling (`make run`, `make test`, benchmarks): the wheel leaves it out
(pyproject.toml); an installed service connects to the Neo4j that NEO4J_URI names."""
