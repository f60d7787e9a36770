"""The publish run, split along its steps (see ``flow.py`` for the order and why it is safe)."""
from .core import Outcome, Run, RunOptions, RunReport  # noqa: F401
from .flow import publish  # noqa: F401
