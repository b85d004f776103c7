"""Local runtime: the real Kafka broker and PostgreSQL as plain processes (there is no Docker)."""
