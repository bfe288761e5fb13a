"""Who is inside this area: GeoJSON parsing and validation, and vectorised point matching.

Coordinates are GeoJSON order, (longitude, latitude), WGS84.
"""

from geo.area import Area, AreaError, load_area, parse_area
from geo.match import covered_mask
from geo.territory import BBox, point_problem

__all__ = ["Area", "AreaError", "BBox", "covered_mask", "load_area", "parse_area", "point_problem"]
