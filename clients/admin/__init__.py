"""The staff console for the bot builder's side, one module per area."""

from . import clients, events, projects

__all__ = ["clients", "events", "projects"]
