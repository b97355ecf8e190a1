"""Running copybot as a service: ``copybot doctor``, backups, logging, the process lifecycle
(signals, draining) and the health/metrics HTTP server. The engine only counts and answers
``health()``; serving those over HTTP is an operations concern and lives here."""
