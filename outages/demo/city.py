"""A synthetic Hanoi-like city for demos and benchmarks.

Nine districts (rough boxes around their real places), feeders per district whose customers
cluster around them, Vietnamese names, local mobile numbers, some emails, a few English
speakers, and, unless asked not to, a few deliberately bad rows so an import shows its rejects.
Only `random.Random(seed)` is used, so a seed always gives the same bytes.
"""

from __future__ import annotations

import json
import math
import random
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from outages.registry.rows import COLUMNS
from outages.text import CsvWriter

# name, code, region, (min_lon, min_lat, max_lon, max_lat), share of customers, streets
DISTRICTS: tuple[tuple[str, str, str, tuple[float, float, float, float], int, tuple[str, ...]],
                 ...] = (
    ("Ba Đình", "BD", "Trung tâm", (105.810, 21.030, 105.840, 21.050), 10,
     ("Kim Mã", "Đội Cấn", "Liễu Giai", "Hoàng Hoa Thám", "Phan Đình Phùng")),
    ("Hoàn Kiếm", "HK", "Trung tâm", (105.840, 21.020, 105.860, 21.040), 7,
     ("Hàng Bạc", "Hàng Đào", "Tràng Tiền", "Lý Thái Tổ", "Hàng Bài")),
    ("Tây Hồ", "TH", "Tây", (105.800, 21.050, 105.850, 21.080), 7,
     ("Lạc Long Quân", "Xuân Diệu", "Âu Cơ", "Thụy Khuê")),
    ("Cầu Giấy", "CG", "Tây", (105.780, 21.020, 105.810, 21.050), 12,
     ("Xuân Thủy", "Cầu Giấy", "Trần Duy Hưng", "Nguyễn Khánh Toàn", "Hoàng Quốc Việt")),
    ("Đống Đa", "DD", "Trung tâm", (105.810, 21.000, 105.840, 21.030), 15,
     ("Tôn Đức Thắng", "Xã Đàn", "Tây Sơn", "Chùa Bộc", "Láng")),
    ("Hai Bà Trưng", "HB", "Trung tâm", (105.840, 21.000, 105.870, 21.020), 12,
     ("Bạch Mai", "Minh Khai", "Lò Đúc", "Phố Huế", "Đại Cồ Việt")),
    ("Thanh Xuân", "TX", "Tây", (105.780, 20.990, 105.810, 21.020), 11,
     ("Nguyễn Trãi", "Khuất Duy Tiến", "Lê Văn Lương", "Nguyễn Tuân")),
    ("Hoàng Mai", "HM", "Nam", (105.820, 20.970, 105.880, 21.000), 14,
     ("Giải Phóng", "Tam Trinh", "Lĩnh Nam", "Kim Giang")),
    ("Long Biên", "LB", "Bắc Sông Hồng", (105.860, 21.020, 105.900, 21.070), 12,
     ("Nguyễn Văn Cừ", "Ngọc Lâm", "Nguyễn Sơn", "Ngô Gia Tự")),
)
FEEDERS_PER_DISTRICT = 6
FAMILY = (("Nguyễn", 38), ("Trần", 11), ("Lê", 9), ("Phạm", 7), ("Hoàng", 5), ("Phan", 4),
          ("Vũ", 4), ("Đặng", 2), ("Bùi", 2), ("Đỗ", 2), ("Hồ", 1), ("Ngô", 1), ("Dương", 1),
          ("Lý", 1), ("Đinh", 1), ("Trịnh", 1))
MIDDLE_MEN = ("Văn", "Đức", "Minh", "Quang", "Hữu", "Thành", "Công", "Xuân", "Tuấn")
MIDDLE_WOMEN = ("Thị", "Thu", "Ngọc", "Thanh", "Minh", "Phương", "Hồng", "Kim", "Bích")
GIVEN_MEN = ("Anh", "Hùng", "Dũng", "Hải", "Tuấn", "Nam", "Quân", "Trung", "Việt", "Long",
             "Sơn", "Thắng", "Cường", "Khánh", "Phong", "Đạt", "Huy", "Bình", "Hiếu", "Tùng")
GIVEN_WOMEN = ("Hương", "Lan", "Linh", "Hà", "Trang", "Hoa", "Mai", "Phương", "Thảo", "Ngân",
               "Huyền", "Yến", "Nhung", "Vân", "Hạnh", "Giang", "Loan", "Oanh", "Dung", "Chi")
MOBILE_PREFIXES = ("090", "091", "093", "094", "096", "097", "098", "032", "033", "034", "035",
                   "036", "037", "038", "039", "070", "076", "077", "078", "079", "081", "082",
                   "083", "084", "085", "086", "088")
MAIL_DOMAINS = ("gmail.com", "gmail.com", "gmail.com", "yahoo.com", "outlook.com", "fpt.vn",
                "vnpt.vn")
BAD_EVERY = 2000  # one deliberately bad row in this many
BAD_KINDS = ("swapped", "missing_code", "duplicate", "bad_email", "bad_phone")


@dataclass(frozen=True)
class Feeder:
    name: str
    district: int
    lon: float
    lat: float
    spread: float


def feeders(seed: int) -> list[Feeder]:
    """Feeder 'centres' per district; customers of a feeder cluster around its centre."""
    rng = random.Random(f"feeders-{seed}")
    result = []
    for index, (_, code, _, (x0, y0, x1, y1), _, _) in enumerate(DISTRICTS):
        for k in range(FEEDERS_PER_DISTRICT):
            result.append(Feeder(f"{code}-{471 + k}", index, rng.uniform(x0, x1),
                                 rng.uniform(y0, y1), (x1 - x0) * rng.uniform(0.15, 0.35)))
    return result


def customer_rows(n: int, seed: int = 7, *, bad_rows: bool = True) -> Iterator[list[str]]:
    """n registry rows as CSV strings in COLUMNS order, generated lazily (a million is fine).

    With bad_rows, about one row in BAD_EVERY is spoiled on purpose (swapped lon/lat, no code,
    a repeated code, a malformed email or phone). Without, every row imports cleanly."""
    rng = random.Random(seed)
    feeder_list = feeders(seed)
    weights = [DISTRICTS[f.district][4] for f in feeder_list]
    picks = iter(())  # type: Iterator[Feeder]
    for index in range(n):
        if index % 4096 == 0:  # choices() in blocks: much faster than one call per row
            picks = iter(rng.choices(feeder_list, weights, k=4096))
        row = _customer(rng, index, next(picks))
        if bad_rows and index % BAD_EVERY == BAD_EVERY // 2:
            _spoil(row, BAD_KINDS[(index // BAD_EVERY) % len(BAD_KINDS)], index)
        yield row


def _customer(rng: random.Random, index: int, feeder: Feeder) -> list[str]:
    district, _, region, box, _, streets = DISTRICTS[feeder.district]
    lon, lat = _location(rng, feeder, box)
    woman = rng.random() < 0.5
    family = rng.choices(FAMILY_NAMES, FAMILY_WEIGHTS)[0]
    middle = rng.choice(MIDDLE_WOMEN if woman else MIDDLE_MEN)
    given = rng.choice(GIVEN_WOMEN if woman else GIVEN_MEN)
    name = f"{family} {middle} {given}"
    street = rng.choice(streets)
    address = f"Số {rng.randint(1, 199)}, ngõ {rng.randint(1, 99)} {street}, {district}"
    email = _email(rng, name, index) if rng.random() < 0.3 else ""
    language = "en" if rng.random() < 0.05 else ("vi" if rng.random() < 0.5 else "")
    connected = "" if rng.random() < 0.2 else (date(1995, 1, 1) + timedelta(
        days=rng.randrange(10950))).isoformat()
    disconnected = ""
    if connected and rng.random() < 0.01:
        disconnected = (date.fromisoformat(connected) + timedelta(
            days=rng.randrange(1, 3000))).isoformat()
    return [f"PD{index + 1:08d}", name, _phone(rng), email, f"{lon:.6f}", f"{lat:.6f}", address,
            f"Hà Nội - {region}", district, feeder.name, language, connected, disconnected, "",
            ""]  # priority, and channels: the notices.channels setting


FAMILY_NAMES = tuple(name for name, _ in FAMILY)
FAMILY_WEIGHTS = tuple(weight for _, weight in FAMILY)


def _location(rng: random.Random, feeder: Feeder, box: tuple[float, ...]) -> tuple[float, float]:
    x0, y0, x1, y1 = box
    margin = 0.0002  # keep off the district edges so each customer lies in one district
    lon = min(max(rng.gauss(feeder.lon, feeder.spread), x0 + margin), x1 - margin)
    lat = min(max(rng.gauss(feeder.lat, feeder.spread), y0 + margin), y1 - margin)
    return lon, lat


def _phone(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.03:
        return ""
    number = f"{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10_000_000):07d}"
    if roll < 0.08:
        return "+84" + number[1:]
    if roll < 0.15:
        return f"{number[:4]} {number[4:7]} {number[7:]}"
    return number


def _email(rng: random.Random, name: str, index: int) -> str:
    folded = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D"))
    ascii_name = folded.encode("ascii", "ignore").decode().lower().split()
    local = f"{ascii_name[-1]}.{ascii_name[0]}{index % 997}"
    return f"{local}@{rng.choice(MAIL_DOMAINS)}"


def _spoil(row: list[str], kind: str, index: int) -> None:
    if kind == "swapped":
        row[4], row[5] = row[5], row[4]
    elif kind == "missing_code":
        row[0] = ""
    elif kind == "duplicate":
        row[0] = f"PD{max(index - 7, 0) + 1:08d}"
    elif kind == "bad_email":
        row[3] = row[3].replace("@", " at ") if row[3] else "khong-co-email"
    else:
        row[2] = "09123"


def write_customers_csv(path: Path, n: int, seed: int = 7, *, bad_rows: bool = True) -> None:
    """Stream n rows to a UTF-8 CSV file with a header row."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = CsvWriter(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(customer_rows(n, seed, bad_rows=bad_rows))


def _box(x0: float, y0: float, x1: float, y1: float) -> list[list[list[float]]]:
    return [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]


def _circle(lon: float, lat: float, radius: float, sides: int = 24) -> list[list[list[float]]]:
    ring = [[round(lon + radius * math.cos(2 * math.pi * k / sides), 6),
             round(lat + radius * 0.93 * math.sin(2 * math.pi * k / sides), 6)]
            for k in range(sides)]
    return [[*ring, ring[0]]]


def _feature(name: str, rings: list[list[list[float]]], **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": {"name": name, **props},
            "geometry": {"type": "Polygon", "coordinates": rings}}


def districts_geojson() -> dict[str, Any]:
    return {"type": "FeatureCollection",
            "features": [_feature(name, _box(*box), region=f"Hà Nội - {region}")
                         for name, _, region, box, _, _ in DISTRICTS]}


def preview_area() -> dict[str, Any]:
    """Hoàn Kiếm with its southern neighbour's northern half: a few thousand customers."""
    return {"type": "FeatureCollection", "features": [
        _feature("Hoàn Kiếm và bắc Hai Bà Trưng", _box(105.840, 21.010, 105.860, 21.040))]}


def cut_area(seed: int = 7) -> dict[str, Any]:
    """A neighbourhood around one feeder of Đống Đa: a few hundred to a thousand customers."""
    feeder = next(f for f in feeders(seed) if f.name == "DD-474")
    return _feature(f"Khu dân cư quanh lộ {feeder.name}",
                    _circle(feeder.lon, feeder.lat, 0.006))


def write_city(out_dir: Path, customers: int = 24_000, seed: int = 7) -> dict[str, Path]:
    """The demo files: customers.csv and areas/{districts,preview,cut}.geojson."""
    areas = out_dir / "areas"
    areas.mkdir(parents=True, exist_ok=True)
    files = {"customers": out_dir / "customers.csv", "districts": areas / "districts.geojson",
             "preview": areas / "preview.geojson", "cut": areas / "cut.geojson"}
    write_customers_csv(files["customers"], customers, seed)
    for key, document in (("districts", districts_geojson()), ("preview", preview_area()),
                          ("cut", cut_area(seed))):
        files[key].write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n",
                              encoding="utf-8")
    return files
