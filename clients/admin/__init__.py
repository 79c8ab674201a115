"""The staff console for the bot builder's side, one module per area."""

from . import api_keys, clients, events, projects

__all__ = ["api_keys", "clients", "events", "projects"]
