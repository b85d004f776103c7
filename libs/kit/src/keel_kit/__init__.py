"""Keel's service kit: what every service needs to talk to Kafka and its database safely.

Services never re-implement delivery semantics: the kit owns the outbox and its relay, the inbox
that makes consumers idempotent, batch consumption with offsets committed after the database,
bounded retries, dead letters, telemetry and health. It never imports a service.
"""
