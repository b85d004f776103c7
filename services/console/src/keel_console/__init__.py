"""Keel's console: server-rendered pages for the people who run the business.

It holds no business data and no business rules. Every read and every action is a call to the
services' own APIs with the signed-in person's token, so the services' permission tables and
audit trails apply unchanged; the console keeps only its users (locally) and their sessions.
"""
