"""Every reason a row is refused, with its line, and the rejects file that carries them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from outages.errors import ValidationError
from outages.registry.importer import import_customers
from outages.registry.rows import COLUMNS
from tests.registry.conftest import read_rejects, row

BAD_ROWS: list[tuple[dict[str, str], str]] = [
    (row(""), "missing code"),
    (row("PD3", lon="abc"), "lon 'abc' is not a number"),
    (row("PD4", lat=""), "missing lat"),
    (row("PD5", lon="200"), "lon 200 must be within -180..180"),
    (row("PD6", lon="21.03", lat="105.85"), "lon and lat look swapped"),
    (row("PD7", lon="2.35", lat="48.85"), "outside the service territory"),
    (row("PD8", phone="0123"), "phone '0123' is not a valid number"),
    (row("PD9", email="an@"), "email 'an@' is not a valid address"),
    (row("PD10", language="fr"), "unknown language 'fr'"),
    (row("PD11", connected_on="2010-13-01"), "connected_on: invalid date '2010-13-01'"),
    (row("PD12", connected_on="2020-05-01", disconnected_on="2020-04-30"),
     "disconnected_on 2020-04-30 is before connected_on 2020-05-01"),
    (row("PD1"), "duplicate code PD1, first seen on line 2"),
    (row("PD13", name="x" * 201), "name is 201 characters long, more than the limit of 200"),
    (row("PD14", lon="105,85"), "use a dot as the decimal separator"),
    (row("PD15", phone="abc"), "phone 'abc' is not a phone number"),
    (row("PD16", name="An\x00"), "name contains the control character U+0000"),
    (row("PD17", address="1\x1b[2J Pho Hue"), "address contains the control character U+001B"),
    (row("PD18", connected_on="9999-12-31"), "between 1900-01-01 and 2100-12-31"),
    (row("PD19", priority="vip"), "priority 'vip' is not known: use life_support, medical, "
     "critical_facility or leave it empty"),
]


def test_connection_dates_before_1970_are_kept(engine: Any, settings: Any, write_csv: Any,
                                              stored: Any) -> None:
    result = import_customers(engine, settings, write_csv([row("PD1", connected_on="1965-05-01")]))
    assert (result.imported, result.rejected) == (1, 0)
    assert str(stored()["PD1"]["connected_on"]) == "1965-05-01"


def test_each_bad_row_is_rejected_with_its_line_and_reason(
    engine: Any, settings: Any, write_csv: Any, stored: Any
) -> None:
    rows = [row("PD1"), *(bad for bad, _ in BAD_ROWS), row("PD2")]
    path = write_csv(rows)
    result = import_customers(engine, settings, path)
    assert (result.imported, result.updated, result.rejected) == (2, 0, len(BAD_ROWS))
    assert set(stored()) == {"PD1", "PD2"}
    rejects = read_rejects(result.rejects_file)
    assert result.rejects_file == path.with_name("customers.rejects.csv")
    assert [r["line"] for r in rejects] == [str(i + 3) for i in range(len(BAD_ROWS))]
    for rejected, (bad, expected) in zip(rejects, BAD_ROWS, strict=True):
        assert expected in rejected["reason"]
        assert [rejected[c] for c in COLUMNS] == [bad[c] for c in COLUMNS]  # as given


def test_all_problems_of_a_row_are_named(engine: Any, settings: Any, write_csv: Any) -> None:
    result = import_customers(engine, settings,
                              write_csv([row("", phone="12", email="x", language="de")]))
    reason = read_rejects(result.rejects_file)[0]["reason"]
    for part in ("missing code", "phone '12'", "email 'x'", "unknown language 'de'"):
        assert part in reason


def test_swap_hint_names_the_point_that_would_be_inside(
    engine: Any, make_settings: Any, write_csv: Any
) -> None:
    europe = make_settings(OUTAGES_TERRITORY_MIN_LON="5", OUTAGES_TERRITORY_MAX_LON="15",
                           OUTAGES_TERRITORY_MIN_LAT="47", OUTAGES_TERRITORY_MAX_LAT="55",
                           OUTAGES_LOCALE_PHONE_REGION="DE")
    path = write_csv([row("B1", lon="52.52", lat="13.40", phone="030 901820")])
    result = import_customers(engine, europe, path)
    reason = read_rejects(result.rejects_file)[0]["reason"]
    assert "lon and lat look swapped: (lon 13.4, lat 52.52) would be inside" in reason


def test_wrong_field_count_is_a_row_problem(engine: Any, settings: Any, tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_text("code,lon,lat\nA,105.8,21.0\nB,105.8\nC,105.8,21.0,extra\nD,105.9,21.1\n",
                    encoding="utf-8")
    result = import_customers(engine, settings, path)
    assert (result.imported, result.rejected) == (2, 2)
    rejects = read_rejects(result.rejects_file)
    assert [(r["line"], r["code"]) for r in rejects] == [("3", "B"), ("4", "C")]
    assert "row has 2 fields but the header has 3" in rejects[0]["reason"]


def test_rejects_option_and_atomic_write(engine: Any, settings: Any, write_csv: Any,
                                         tmp_path: Path) -> None:
    target = tmp_path / "out" / "bad.csv"
    target.parent.mkdir()
    result = import_customers(engine, settings, write_csv([row(""), row("A")]),
                              rejects_path=target)
    assert result.rejects_file == target
    assert sorted(p.name for p in target.parent.iterdir()) == ["bad.csv"]  # no temp left
    assert read_rejects(target)[0]["reason"].startswith("missing code")


def test_no_rejects_means_no_file(engine: Any, settings: Any, write_csv: Any) -> None:
    path = write_csv([row("A")])
    result = import_customers(engine, settings, path)
    assert result.rejects_file is None
    assert not path.with_name("customers.rejects.csv").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is empty: expected a header row"),
        ("code,lon,lat,colour,size\nA,1,2,red,3\n", "unknown column(s) 'colour', 'size'"),
        ("code,name\nA,x\n", "required column(s) lon, lat missing"),
        ("code,lon,lat,lon\n", "lon appear more than once"),
        ("code,lon,lat,\nA,1,2,\n", "a trailing comma in the header"),
        ('{"type": "Feature"}', "expected a GeoJSON FeatureCollection"),
        ('{"type": "FeatureCollection", "features": {}}', "expected a GeoJSON FeatureCollection"),
        ('{"features": []}', "expected a GeoJSON FeatureCollection"),
        ('{"type": "FeatureCollection", "features": [{"type": "Feature",',
         "not valid GeoJSON"),
        ('{"type": "FeatureCollection", "features": [], "x": tru}', "not valid GeoJSON"),
    ],
)
def test_unusable_file_is_refused_whole(engine: Any, settings: Any, tmp_path: Path,
                                        stored: Any, content: str, message: str) -> None:
    path = tmp_path / "file.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        import_customers(engine, settings, path)
    assert stored() == {}


def test_missing_file_exits_2(cli: Any, tmp_path: Path) -> None:
    refused = cli("customers", "import", str(tmp_path / "nope.csv"))
    assert refused.exit_code == 2
    assert "does not exist" in refused.stderr


def test_cli_json_shape_and_exit_0_with_rejects(cli: Any, write_csv: Any) -> None:
    path = write_csv([row("A"), row("")])
    result = cli("customers", "import", str(path), "--json")
    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert payload == {"imported": 1, "updated": 0, "rejected": 1,
                       "rejects_file": str(path.with_name("customers.rejects.csv"))}
    clean = cli("customers", "import", str(write_csv([row("B")], name="b.csv")), "--json")
    assert json.loads(clean.stdout) == {"imported": 1, "updated": 0, "rejected": 0,
                                        "rejects_file": None}


def test_cli_human_summary_says_where_the_rejects_are(cli: Any, write_csv: Any) -> None:
    result = cli("customers", "import", str(write_csv([row("A"), row("A")])))
    assert result.exit_code == 0
    assert "1 imported, 0 updated, 1 rejected" in result.stdout
    assert "line 3: duplicate code A, first seen on line 2" in result.stderr
    assert "customers.rejects.csv" in result.stderr


def test_non_utf8_file_is_refused_with_the_fix(engine: Any, settings: Any,
                                               tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("code,name,lon,lat\nA,Hà Đông,105.8,21.0\n".encode("latin-1", "replace"))
    with pytest.raises(ValidationError, match="line 2, column 4: the text is not UTF-8; save"):
        import_customers(engine, settings, path)


def test_bad_bytes_deep_in_a_big_file_stop_after_stored_batches(
    engine: Any, make_settings: Any, tmp_path: Path, stored: Any
) -> None:
    settings = make_settings(OUTAGES_CUSTOMERS_IMPORT_BATCH="100")
    good = "".join(f"C{i:05d},105.8,21.0\n" for i in range(3000))
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"code,lon,lat\n" + good.encode() + b"X\xff\xfe,105.8,21.0\n")
    with pytest.raises(ValidationError, match="line 3002, column 2: the text is not UTF-8; "
                       "save the file as UTF-8") as stopped:
        import_customers(engine, settings, path)
    # Every good row before the bad bytes is stored, and the message says so.
    assert len(stored()) == 3000 and "The 3000 rows before it were stored" in str(stopped.value)


def test_unwritable_rejects_folder_is_refused_before_anything_is_stored(
    engine: Any, settings: Any, write_csv: Any, tmp_path: Path, stored: Any
) -> None:
    with pytest.raises(ValidationError, match="cannot write the rejects file"):
        import_customers(engine, settings, write_csv([row("A"), row("")]),
                         rejects_path=tmp_path / "missing" / "r.csv")
    assert stored() == {}


def test_import_is_audited_with_who_and_the_counts(cli: Any, engine: Any, write_csv: Any) -> None:
    from sqlalchemy import select

    from outages.models import AuditEntry

    path = write_csv([row("A"), row("B"), row("")])
    assert cli("customers", "import", str(path), "--by", "lan.nguyen").exit_code == 0
    with engine.connect() as conn:
        entries = conn.execute(select(AuditEntry.__table__)).mappings().all()
    assert [(e["actor"], e["source"], e["action"], e["entity_id"]) for e in entries] == [
        ("lan.nguyen", "cli", "customers.import", path.name)]
    assert entries[0]["after"] == {"imported": 2, "updated": 0, "rejected": 1}


def test_geojson_that_is_not_utf8_is_refused_whole(engine: Any, settings: Any, tmp_path: Path,
                                                   stored: Any) -> None:
    path = tmp_path / "latin1.geojson"
    path.write_bytes(b'{"type": "FeatureCollection", "features": [{"type": "Feature", '
                     b'"properties": {"code": "A\xe9"}, "geometry": {"type": "Point", '
                     b'"coordinates": [105.8, 21.0]}}]}')
    with pytest.raises(ValidationError, match=r"not valid GeoJSON.*invalid bytes in UTF8"):
        import_customers(engine, settings, path)
    assert stored() == {}


def test_a_rejects_path_that_is_a_folder_is_refused_before_anything_is_stored(
        cli: Any, write_csv: Any, tmp_path: Path, stored: Any) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    path = write_csv([row("A"), row("B", lon="x")])
    result = cli("customers", "import", str(path), "--rejects", str(folder))
    assert result.exit_code == 2 and "is a folder" in result.stderr
    assert stored() == {} and list(folder.iterdir()) == []
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_fixed_rejects_file_is_imported_as_it_is(engine: Any, settings: Any, write_csv: Any,
                                                  stored: Any) -> None:
    result = import_customers(engine, settings, write_csv([
        row("A"), row("B", lon="105,85"), row("C", name='Nhà "Hoa", số 5', lat="x")]))
    assert result.rejects_file is not None and result.rejected == 2
    fixed = result.rejects_file.read_text(encoding="utf-8") \
        .replace('"105,85"', "105.85").replace(",x,", ",21.03,")
    again = result.rejects_file.with_name("fixed.csv")
    again.write_text(fixed, encoding="utf-8")
    second = import_customers(engine, settings, again)
    assert (second.imported, second.rejected) == (2, 0)
    assert sorted(stored()) == ["A", "B", "C"]
    assert stored()["C"]["name"] == 'Nhà "Hoa", số 5'
