"""Reliability and service reports as text tables, HTML and charts."""
