"""Accord: Interlink's own signed intake envelope for Accord mutual-action-plan data."""
