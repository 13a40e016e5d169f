"""Version of mofgap."""

__version__ = "0.1.0"
