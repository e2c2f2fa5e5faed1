"""The engine's ports implemented over the vendor clients."""
