"""A synthetic northern-Vietnam registry for the scale benchmark: provinces, their districts,
22 kV feeders of about 4,000 customers each, customers clustered around their feeder.

Provinces sit on a grid over the north (no two overlap, so a province's outline holds exactly
its own customers); each is split into districts, the provincial city about a tenth of the
province. Shares follow the real sizes roughly (Thanh Hóa and Nghệ An about a million
customers each at 9 M in all). Rows are made a chunk at a time with numpy, so 9,000,000 take
a minute or two, and every row imports cleanly; phone numbers are all different, so a
message received twice shows.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from outages.registry.rows import COLUMNS

# name, code, customers in thousands (of 9,000), districts
PROVINCES = (
    ("Thanh Hóa", "TH", 1000, 10), ("Nghệ An", "NA", 950, 10), ("Hải Phòng", "HP", 700, 7),
    ("Hải Dương", "HD", 560, 6), ("Thái Bình", "TB", 530, 6), ("Nam Định", "ND", 520, 6),
    ("Bắc Giang", "BG", 480, 5), ("Quảng Ninh", "QN", 420, 5), ("Bắc Ninh", "BN", 420, 5),
    ("Hà Tĩnh", "HT", 400, 5), ("Phú Thọ", "PT", 380, 4), ("Hưng Yên", "HY", 370, 4),
    ("Vĩnh Phúc", "VP", 340, 4), ("Thái Nguyên", "TN", 330, 4), ("Ninh Bình", "NB", 280, 3),
    ("Hà Nam", "HN", 250, 3), ("Sơn La", "SL", 230, 3), ("Hòa Bình", "HB", 210, 3),
    ("Lạng Sơn", "LS", 190, 3), ("Tuyên Quang", "TQ", 190, 3), ("Yên Bái", "YB", 180, 3),
    ("Lào Cai", "LC", 170, 3), ("Hà Giang", "HG", 160, 3), ("Điện Biên", "DB", 120, 2),
    ("Cao Bằng", "CB", 120, 2), ("Lai Châu", "LA", 100, 2), ("Bắc Kạn", "BK", 80, 2),
)
GRID_COLUMNS = 6
ORIGIN = (102.6, 18.4)  # south-west corner of the grid (lon, lat)
CELL = (0.9, 0.8)  # a province's box in degrees
CITY_SHARE = 0.10
CUSTOMERS_PER_FEEDER = 4000
CHUNK = 250_000
PREFIXES = ("090", "091", "093", "094", "096", "097", "098", "032", "033", "034", "035",
            "036", "037", "038", "039", "070", "076", "077", "078", "079", "081", "082",
            "083", "084", "085", "086", "088")
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Phan", "Vũ", "Đặng", "Bùi", "Đỗ")
GIVEN = ("Văn An", "Thị Lan", "Đức Hùng", "Thị Hương", "Minh Tuấn", "Thu Trang", "Quang Hải",
         "Ngọc Mai", "Văn Nam", "Thị Hoa", "Hữu Long", "Thanh Hà")


@dataclass(frozen=True)
class District:
    province: str
    code: str  # feeders are named after it: TH03-471
    name: str
    box: tuple[float, float, float, float]
    customers: int
    feeders: int


def layout(total: int) -> list[District]:
    """The districts of every province with their customer counts, adding up to `total`."""
    scale = total / sum(p[2] for p in PROVINCES) / 1000
    districts = []
    for index, (name, code, thousands, count) in enumerate(PROVINCES):
        column, row = index % GRID_COLUMNS, index // GRID_COLUMNS
        x0 = ORIGIN[0] + column * CELL[0]
        y0 = ORIGIN[1] + row * CELL[1]
        people = round(thousands * 1000 * scale)
        shares = [CITY_SHARE] + [(1 - CITY_SHARE) / (count - 1)] * (count - 1)
        sizes = np.floor(np.array(shares) * people).astype(int)
        sizes[-1] += people - sizes.sum()
        width = CELL[0] / count
        for k in range(count):
            label = f"TP {name}" if k == 0 else f"{name} - huyện {k:02d}"
            box = (x0 + k * width, y0, x0 + (k + 1) * width, y0 + CELL[1])
            districts.append(District(name, f"{code}{k:02d}", label, box, int(sizes[k]),
                                      max(2, math.ceil(sizes[k] / CUSTOMERS_PER_FEEDER))))
    difference = total - sum(d.customers for d in districts)
    first = districts[0]
    districts[0] = District(first.province, first.code, first.name, first.box,
                            first.customers + difference, first.feeders)
    return districts


def province_area(name: str) -> shapely.Polygon:
    """A province's outline: its box with a vertex every ~1 km, like a drawn boundary."""
    return _outline([d for d in layout(len(PROVINCES) * 100) if d.province == name])


def district_area(name: str) -> shapely.Polygon:
    return _outline([d for d in layout(len(PROVINCES) * 100) if d.name == name])


def _outline(districts: list[District]) -> shapely.Polygon:
    x0 = min(d.box[0] for d in districts)
    y0 = min(d.box[1] for d in districts)
    x1 = max(d.box[2] for d in districts)
    y1 = max(d.box[3] for d in districts)
    return shapely.segmentize(shapely.box(x0, y0, x1, y1), 0.01)


def write_csv(path: Path, total: int, seed: int = 7) -> None:
    """The registry as a UTF-8 CSV with a header, a chunk of rows at a time."""
    rng = np.random.default_rng(seed)
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(COLUMNS) + "\n")
        number = 0
        for district in layout(total):
            for start in range(0, district.customers, CHUNK):
                size = min(CHUNK, district.customers - start)
                handle.writelines(_rows(rng, district, number, size))
                number += size


def _rows(rng: np.random.Generator, district: District, first: int,
          size: int) -> Iterator[str]:
    x0, y0, x1, y1 = district.box
    margin = 0.0005  # off the edges, so each customer is inside one district only
    centres = np.column_stack([rng.uniform(x0 + margin, x1 - margin, district.feeders),
                               rng.uniform(y0 + margin, y1 - margin, district.feeders)])
    feeder = rng.integers(0, district.feeders, size)
    spread = (x1 - x0) / 6
    lon = np.clip(centres[feeder, 0] + rng.normal(0, spread, size), x0 + margin, x1 - margin)
    lat = np.clip(centres[feeder, 1] + rng.normal(0, spread, size), y0 + margin, y1 - margin)
    index = np.arange(first, first + size)
    phones = _phones(index)
    family = rng.integers(0, len(FAMILY), size)
    given = rng.integers(0, len(GIVEN), size)
    house = rng.integers(1, 300, size)
    english = rng.random(size) < 0.03
    no_phone = rng.random(size) < 0.03
    region, name = district.province, district.name
    feeder_code = [f"{district.code}-{471 + f}" for f in range(district.feeders)]
    for k in range(size):
        yield (f"NPC{index[k]:09d},{FAMILY[family[k]]} {GIVEN[given[k]]},"
               f"{'' if no_phone[k] else phones[k]},,{lon[k]:.6f},{lat[k]:.6f},"
               f"\"Số {house[k]}, {name}\",{region},{name},{feeder_code[feeder[k]]},"
               f"{'en' if english[k] else 'vi'},,,,\n")


def _phones(index: np.ndarray) -> list[str]:
    """A different valid Vietnamese mobile number per customer index (below 270 million)."""
    prefix = index % len(PREFIXES)
    rest = (index // len(PREFIXES)) * 7919 % 10_000_000  # 7919 is prime: one-to-one
    return [f"{PREFIXES[p]}{r:07d}" for p, r in zip(prefix.tolist(), rest.tolist(), strict=True)]
