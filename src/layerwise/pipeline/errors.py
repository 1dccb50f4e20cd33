"""The one error type a user sees as a single line (see layerwise.pipeline.runner)."""


class UserError(Exception):
    """Bad input: the message names the key or file at fault and what is allowed."""
