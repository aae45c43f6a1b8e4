"""The application around the pure domain: settings, the clock, the services (one use case, one
transaction) and the entry points (CLI, web, scheduler)."""
