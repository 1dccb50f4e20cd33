"""The one error type a user sees as a single line (see layerwise.pipeline.runner)."""


class UserError(Exception):
    """Bad input: the message names the key or file at fault and what is allowed."""


class DataFileError(UserError):
    """A data file the configuration names cannot be used: the message starts with the
    file, so it is shown as is (not under the params file's name)."""
