"""Unauthenticated answers: the public cut schedule, current outages and the page."""
