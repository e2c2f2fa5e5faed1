"""Imports every feature's ``tasks`` module so the registry is complete in any process."""

import interlink.inbox.tasks  # noqa: F401
