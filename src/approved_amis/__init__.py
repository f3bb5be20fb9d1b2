"""approved-amis: find EC2 launches from AMIs that the approval rule does not approve."""

__version__ = "0.1.0"
