"""Shared plumbing: settings, database, cache, errors, HTTP helpers, auth, logging, metrics and the app factory."""
