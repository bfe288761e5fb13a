"""Planned cuts and fault incidents: create, change, restore, and read them back."""
