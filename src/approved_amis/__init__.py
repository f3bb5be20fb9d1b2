"""approved-amis: find EC2 launches from AMIs that the approval rule does not approve."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("approved-amis")  # from the repository's VERSION file, at install time
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"
