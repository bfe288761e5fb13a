"""What the registry answers: a customer, a page of them, an area preview, an import."""

from __future__ import annotations

from outages.results import Result


class CustomerView(Result):
    """A customer for JSON: dates as YYYY-MM-DD, timestamps in local time with offset."""

    code: str
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    lon: float | None = None
    lat: float | None = None
    address: str | None = None
    region: str | None = None
    district: str | None = None
    feeder: str | None = None
    language: str | None = None
    sms_opt_out: bool | None = None
    email_opt_out: bool | None = None
    phone_invalid: bool | None = None
    email_invalid: bool | None = None
    # When Zalo last said the number has no account it can reach (Zalo notices go by SMS).
    zalo_absent_at: str | None = None
    priority: str | None = None  # personal data: blanked for roles without personal_data
    channels: str | None = None
    connected_on: str | None = None
    disconnected_on: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class CustomerPage(Result):
    total: int
    limit: int
    offset: int
    customers: list[CustomerView]


class AreaPreview(Result):
    area: str | None
    count: int
    customers: list[str]
    by_region: dict[str, int]
    by_district: dict[str, int]
    by_feeder: dict[str, int]
    repairs: list[str]
    # Priority customers among them: personal data, blanked for roles without personal_data.
    priority: int | None = None


class CustomerImport(Result):
    imported: int
    updated: int
    rejected: int
    rejects_file: str | None
    rejects_csv: str | None = None
    samples: list[str] | None = None


class NamedAreaView(Result):
    """A stored named area: its box, size and who last imported it (times local)."""

    id: int
    name: str
    kind: str
    bbox: list[float]
    vertices: int
    area_km2: float
    updated_at: str
    updated_by: str


class AreaImport(Result):
    """What `areas import` stored: names added, names whose polygon was replaced."""

    kind: str
    imported: list[str]
    replaced: list[str]
    repairs: list[str]


class DensityGrid(Result):
    """Customers per grid cell: `cells` holds [column, row, count] for non-empty cells;
    cell (i, j) spans lon origin[0] + i*cell to + (i+1)*cell, lat likewise."""

    cell: float
    origin: list[float]
    cells: list[tuple[int, int, int]]
    total: int
    max: int
