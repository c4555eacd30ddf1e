"""Singer tap for the Skipcall API."""

__version__ = "0.1.0"
