"""The service territory: a lon/lat box every customer and area must lie in."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class BBox:
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    def contains(self, lon: float, lat: float) -> bool:
        return self.min_lon <= lon <= self.max_lon and self.min_lat <= lat <= self.max_lat

    def __str__(self) -> str:
        return (f"lon {self.min_lon:g}..{self.max_lon:g}, lat {self.min_lat:g}..{self.max_lat:g}")


def point_problem(lon: float, lat: float, territory: BBox) -> str | None:
    """Why (lon, lat) cannot be a location in the territory, or None when it can."""
    if not (math.isfinite(lon) and math.isfinite(lat)):
        return f"coordinates ({lon}, {lat}) are not finite numbers"
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        hint = " (lon and lat look swapped)" if -180 <= lat <= 180 and -90 <= lon <= 90 else ""
        return (f"coordinates out of range: lon {lon:g} must be within -180..180 and "
                f"lat {lat:g} within -90..90{hint}")
    if territory.contains(lon, lat):
        return None
    if territory.contains(lat, lon):
        return (f"point (lon {lon:g}, lat {lat:g}) is outside the service territory ({territory}); "
                f"lon and lat look swapped: (lon {lat:g}, lat {lon:g}) would be inside")
    return f"point (lon {lon:g}, lat {lat:g}) is outside the service territory ({territory})"
