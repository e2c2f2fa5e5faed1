"""Interlink: keeps HubSpot and Accelo in two-way sync and pushes Accord data into HubSpot deals."""

__version__ = "0.1.0"
