"""Reusable test helpers: fixture sites, a link checker, an HTML reader, a content oracle."""
