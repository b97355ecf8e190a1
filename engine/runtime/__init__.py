"""Running the engine: the inbound-events journal, the scheduler, housekeeping, health, metrics and redaction."""
