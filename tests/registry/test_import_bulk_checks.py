"""Rows checked a column at a time give exactly what the row-by-row checker gives; the phone
fast path gives exactly what phonenumbers gives."""

from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import Any

import pytest

from bench.phones import mismatches, reference
from outages.registry.contacts import PhoneNormalizer
from outages.registry.importer import import_customers
from outages.registry.rows import CODE, COLUMNS, RowChecker
from tests.registry.conftest import row

# Values each column may take in a mixed file: good ones, and every way of being wrong that
# a column test must notice (or leave to the row checker).
CHOICES: dict[str, tuple[str, ...]] = {
    "code": ("", " ", " PD9 ", "X\x07", "C" * 65, "C" * 64),
    "name": ("", " Trần Thị Bình ", "a\u202eb", "n" * 201, "n" * 200, "tab\tname", "x\x85"),
    "phone": ("", "0912345678", "+84 912 345 678", "(+84) 912-345-678", "84912345678",
              "091\t234\t5678", "09123", "+1 202 555 0143", "024 3826 1234", "0890000000",
              "hello", "+840912345678", "０９１２３４５６７８", " 0388123456 "),
    "email": ("", "an@example.vn", "an at example.vn", "a" * 65 + "@x.vn",
              "b@" + "d" * 250 + ".vn", "UPPER@EXAMPLE.COM", "x@y", "line@x.vn\nz"),
    "lon": ("105.85", " 105.85 ", "", "21.03", "105,85", "nan", "inf", "1e400", "-200",
            "105.8_5", "abc", "103"),
    "lat": ("21.03", "", "105.85", "95", "21", "-inf", " 10.5"),
    "address": ("", "1 Tràng Tiền", "a" * 501),
    "region": ("", "Hà Nội", "r" * 101),
    "district": ("", "Hoàn Kiếm", "line\nbreak"),
    "feeder": ("", "HK-471", "f" * 101),
    "language": ("", "vi", "EN", " en ", "fr", "Vi"),
    "connected_on": ("", "2010-01-01", "1899-12-31", "1900-01-01", "2010-02-30", "20100101",
                     "2101-01-01", " 2010-01-01 ", "01/02/2010", "2100-12-31", "2012-02-29",
                     "2011-02-29", "1900-02-29", "2000-02-29", "2010-04-31", "2010-13-01",
                     "2010-00-10", "2010-01-00", "２010-01-01", "2010-1-01", "2010-01-0x",
                     "2010\n01-01"),
    "disconnected_on": ("", "2009-12-31", "2011-05-05", "2010-01-01", "bad", "2012-02-29",
                        "2013-02-29", "2010-06-31", "2099-09-30"),
    "priority": ("", "medical", " Life_Support ", "vip"),
    "channels": ("", "zalo,sms,email", " SMS ", "pigeon"),
}


def _mixed_rows(count: int, seed: int) -> list[dict[str, str]]:
    """Mostly good rows, each with a few columns replaced by a random choice."""
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        values = row(f"M{i:05d}")
        for name in rng.sample(COLUMNS, k=rng.choice((0, 0, 1, 2, 3))):
            values[name] = rng.choice(CHOICES[name])
        if rng.random() < 0.03:
            values["code"] = f"M{rng.randrange(max(i, 1)):05d}"  # a duplicate
        rows.append(values)
    return rows


def test_column_checks_give_what_row_checks_give(settings: Any) -> None:
    checker = RowChecker(settings)
    raws = [[v[c] for c in COLUMNS] for v in _mixed_rows(4000, seed=3)]
    raws += [[None if c in ("phone", "email") else v for c, v in zip(COLUMNS, r, strict=True)]
             for r in raws[:300]]  # columns a GeoJSON feature does not have
    rows, refused = checker.check_many(raws)
    one_by_one = [checker.check(raw) for raw in raws]
    assert [(r, refused.get(i, [])) for i, r in enumerate(rows)] == one_by_one
    assert 500 < len(refused) < 3500  # the file really is mixed


def test_import_of_a_mixed_file_stores_what_row_checks_allow(
    engine: Any, settings: Any, write_csv: Any, stored: Any, tmp_path: Path
) -> None:
    mixed = _mixed_rows(3000, seed=8)
    path, rejects_path = write_csv(mixed), tmp_path / "rejects.csv"
    result = import_customers(engine, settings, path, rejects_path=rejects_path)
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        lines = [reader.line_num for _ in reader][1:]  # a quoted line break spans two lines
    checker, first, expected, reasons = RowChecker(settings), dict[str, int](), {}, []
    for line, values in zip(lines, mixed, strict=True):
        good, problems = checker.check([values[c] for c in COLUMNS])
        code = good[CODE] if good else values["code"].strip()
        if code and first.setdefault(code, line) != line:
            problems.append(f"duplicate code {code}, first seen on line {first[code]}")
        if problems:
            reasons.append((str(line), "; ".join(problems)))
        else:
            assert good is not None
            expected[good[CODE]] = good
    with rejects_path.open(encoding="utf-8", newline="") as handle:
        written = [(r["line"], r["reason"]) for r in csv.DictReader(handle)]
    assert (result.imported, result.rejected) == (len(expected), len(reasons))
    assert written == reasons
    table = stored()
    assert sorted(table) == sorted(expected)
    for code, good in expected.items():
        kept = {c: table[code][c] for c in COLUMNS}
        for name in ("connected_on", "disconnected_on"):
            kept[name] = kept[name].isoformat() if kept[name] else None
        assert tuple(kept.values()) == good, code


def test_phone_fast_path_agrees_with_phonenumbers() -> None:
    wrong, decided, examples = mismatches(20_000, seed=4)
    assert (wrong, examples) == (0, [])
    assert decided > 3000  # the fast path really decides the common forms


def test_a_tab_inside_a_number_is_decided_as_phonenumbers_does() -> None:
    for written in ("091\t234\t5678", "+84\t912345678"):
        assert PhoneNormalizer("VN").normalize(written)[0] == reference(written)
        assert PhoneNormalizer("VN").normalize_many([written]) == [None]


@pytest.mark.parametrize("region", ["IL", "US", "GB", "DE", "JP", "AU", "SG"])
def test_phone_fast_path_agrees_with_phonenumbers_in_other_regions(region: str) -> None:
    # Israel's international prefixes 012-019 begin with its national prefix 0.
    normalizer = PhoneNormalizer(region)
    for written in ("01919123456", "0151234567", "0501234567", "0012125550123"):
        ours = normalizer.normalize_many([written])[0] or normalizer.normalize(written)[0]
        assert ours == reference(written, region), (region, written)
    wrong, _decided, examples = mismatches(3_000, seed=7, region=region)
    assert (wrong, examples) == (0, [])


def test_names_and_places_are_stored_composed_by_every_path(engine: Any, settings: Any,
                                                            write_csv: Any, stored: Any,
                                                            tmp_path: Path) -> None:
    import unicodedata

    from outages.registry import customers
    from outages.registry.importer import import_customers
    from tests.registry.conftest import row

    nfd = unicodedata.normalize("NFD", "Hoàn Kiếm")
    assert nfd != "Hoàn Kiếm"
    plain = write_csv([row("A", district=nfd, name=unicodedata.normalize("NFD", "Bà Ánh"))])
    quoted = tmp_path / "quoted.csv"  # a line break in a quoted field: the row-by-row path
    quoted.write_text(plain.read_text(encoding="utf-8").replace("A,", "B,", 1)
                      + f'C,"Nhà\nsố 5",,,105.85,21.03,,,{nfd},,,,,,\n', encoding="utf-8")
    import_customers(engine, settings, plain)
    import_customers(engine, settings, quoted)
    kept = stored()
    assert {code: kept[code]["district"] for code in kept} == dict.fromkeys(kept, "Hoàn Kiếm")
    assert kept["A"]["name"] == "Bà Ánh"
    with engine.begin() as conn:
        customers.update_customer(conn, "A", changes={"address": f"1 {nfd}"}, actor="t",
                                  source="cli", settings=settings)
    assert stored()["A"]["address"] == "1 Hoàn Kiếm"
