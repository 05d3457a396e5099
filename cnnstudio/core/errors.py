"""Errors whose message is meant for the user, shown as-is (CLI: one line, exit code 2)."""


class StudioError(Exception):
    """A problem the user can fix: bad config, missing file, unreadable image, …"""


class ConfigError(StudioError):
    """A RunConfig that cannot run; the message lists every problem found."""


class DataError(StudioError):
    """A dataset that cannot be loaded (missing download, empty folder, …)."""


class ImageError(DataError):
    """A file that is not a readable image."""


class ModelError(StudioError):
    """An architecture that cannot be built for the given input (too small, bad option, …)."""
