"""Commands for cuts, fault incidents and the interruption log."""
