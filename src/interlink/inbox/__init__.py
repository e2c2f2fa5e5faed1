"""The inbox: every accepted webhook stored before it is acknowledged, then claimed by workers in batches."""
