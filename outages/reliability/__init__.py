"""IEEE 1366 reliability indices, major event days, service KPIs and their reports."""
