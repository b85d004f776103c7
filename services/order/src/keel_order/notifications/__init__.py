"""What the customer is told about their order, and when (see `service`)."""
