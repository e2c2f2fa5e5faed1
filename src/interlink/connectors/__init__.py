"""Vendor code only: typed clients, wire models, webhook verification. No database writes, no scheduling."""
