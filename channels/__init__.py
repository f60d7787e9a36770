"""Channel adapters around ``channels.base``, and the rendering of items into posts."""
