"""`keel demo`: a simulated trading day against the running stack, through its public APIs."""
