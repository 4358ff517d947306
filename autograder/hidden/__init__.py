"""Hidden checks, one module per topic: fresh seed every run, compared with the reference."""
