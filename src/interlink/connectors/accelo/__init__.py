"""Accelo: companies, contacts, affiliations, statuses, progressions, profile fields, webhooks, polling."""
