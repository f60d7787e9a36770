"""The ``email`` channel: the adapter (``channel.py``) and the messages and transports it sends with (``message.py``)."""
