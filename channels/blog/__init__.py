"""The ``blog`` channel: the adapter (``channel.py``) and the static site it builds (``site.py``)."""
