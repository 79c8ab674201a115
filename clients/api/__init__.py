"""The channel-agnostic API of the bot builder: clients, their variables and message log."""
