"""Enterprises (SMEs) and their qualification as specialized-innovative / "little giant" firms."""
