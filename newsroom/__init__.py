"""The core every other layer shares: the item model, loading, validation, settings, the state store.

It imports none of ``channels``, ``scheduler`` or ``reports``.
"""
