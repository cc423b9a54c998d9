"""A real Neo4j 5.26 Community server without Docker, assembled from Maven Central jars."""
