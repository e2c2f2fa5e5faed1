"""Simulators of HubSpot, Accelo and Accord: ASGI apps that speak the vendors' wire formats.

Tests, the demo and the benchmarks talk to these instead of the real vendors; admins can use them as a
sandbox to try mappings. Each can be mounted in-process or run alone (``interlink simulate <vendor>``).
"""
