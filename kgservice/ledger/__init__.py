"""The tamper-evident ledger: an RFC 9162 Merkle log of every decision and change, in Neo4j."""
