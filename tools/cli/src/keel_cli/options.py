"""Command-line options more than one `keel` command takes."""

from typing import Annotated

import typer

from keel_cli.runtime import kafka

BootstrapOption = Annotated[
    str,
    typer.Option(
        "--bootstrap", envvar="KEEL_KAFKA_BOOTSTRAP_SERVERS", help="Kafka bootstrap servers"
    ),
]
DEFAULT_BOOTSTRAP = kafka.bootstrap()
