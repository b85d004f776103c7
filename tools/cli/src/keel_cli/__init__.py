"""The `keel` command line: drives the local stack without Docker."""
