"""Read-only views over a finished run, for the dashboard (and any notebook): no I/O, no models."""
