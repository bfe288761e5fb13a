"""outage-notify: planned cuts, fault outages, customer notices and reliability indices."""

__version__ = "0.1.0"
