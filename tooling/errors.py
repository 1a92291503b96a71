"""The one exception type the tasks turn into a clear message (never a traceback)."""


class ToolError(Exception):
    """A failure the user can act on: the message says what went wrong and what to do."""
