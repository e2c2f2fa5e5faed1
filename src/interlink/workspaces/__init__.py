"""Tenancy: workspaces and their API tokens."""
