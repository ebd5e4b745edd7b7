"""CLI commands, one module per flow; each has ``register(app)`` (see ``zkdm.cli.COMMAND_MODULES``)."""
