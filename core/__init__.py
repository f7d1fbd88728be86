"""Shared plumbing every part stands on: settings, database, cache, errors, HTTP, auth, events, logs, metrics."""
