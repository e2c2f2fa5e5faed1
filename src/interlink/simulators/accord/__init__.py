"""An Accord simulator: a few seeded Accords whose changes go out as Interlink's signed Accord events.

app = create_app(webhook_urls=["http://127.0.0.1:8000/webhooks/accord/demo"])
simulator = app.state.simulator       # an AccordSimulator: connect, view, change, flush, deliveries
"""

from interlink.simulators.accord.app import create_app
from interlink.simulators.accord.simulator import (
    DEFAULT_SIGNING_SECRET,
    SEEDED_IDS,
    TRIGGERS,
    AccordSimulator,
    SimAccord,
    SimulatorError,
)

__all__ = [
    "DEFAULT_SIGNING_SECRET",
    "SEEDED_IDS",
    "TRIGGERS",
    "AccordSimulator",
    "SimAccord",
    "SimulatorError",
    "create_app",
]
