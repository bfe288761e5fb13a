"""What an import stores: normalised values, upserts by code, GeoJSON input, whole batches."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from outages.errors import OutagesError
from outages.models import Customer
from outages.registry.contacts import PhoneNormalizer
from outages.registry.importer import import_customers
from tests.registry.conftest import row


@pytest.mark.parametrize(
    ("written", "e164"),
    [
        ("0912345678", "+84912345678"),
        ("091 234 5678", "+84912345678"),
        ("091.234.5678", "+84912345678"),
        ("+84 912 345 678", "+84912345678"),
        ("(+84) 912-345-678", "+84912345678"),
        ("84912345678", "+84912345678"),
        ("0388123456", "+84388123456"),
        ("024 3826 1234", "+842438261234"),  # Hà Nội landline
        ("+1 202 555 0143", "+12025550143"),  # foreign numbers keep their country
    ],
)
def test_phone_is_normalised_to_e164(written: str, e164: str) -> None:
    assert PhoneNormalizer("VN").normalize(written) == (e164, None)


@pytest.mark.parametrize("written", ["0123", "0912", "09123456789012", "+84 012 345 678",
                                     "0890000000", "hello"])
def test_invalid_phone_gets_a_reason(written: str) -> None:
    e164, reason = PhoneNormalizer("VN").normalize(written)
    assert e164 is None
    assert reason is not None and repr(written) in reason


def test_phone_shortcut_agrees_with_phonenumbers() -> None:
    import random

    import phonenumbers

    rng, normalizer = random.Random(5), PhoneNormalizer("VN")
    for _ in range(3000):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.choice((8, 9, 10, 11))))
        written = rng.choice(("0", "+84", "")) + digits
        try:
            parsed = phonenumbers.parse(written, "VN")
            expected = (phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
                        if phonenumbers.is_valid_number(parsed) else None)
        except phonenumbers.NumberParseException:
            expected = None
        assert normalizer.normalize(written)[0] == expected, written


def test_stored_values_are_typed_and_normalised(engine: Any, settings: Any, write_csv: Any,
                                                stored: Any) -> None:
    path = write_csv([row("A", phone="091 234 5678", language="EN", lon=" 105.85 "),
                      row("B", language="", email="", connected_on="")], bom=True)
    import_customers(engine, settings, path)
    a, b = stored()["A"], stored()["B"]
    assert (a["phone"], a["language"], a["lon"], a["lat"]) == ("+84912345678", "en", 105.85, 21.03)
    assert a["connected_on"] == date(2010, 1, 1)
    assert (b["language"], b["email"], b["connected_on"]) == ("vi", None, None)
    assert a["created_at"].tzinfo is not None


def test_default_language_comes_from_settings(engine: Any, make_settings: Any, write_csv: Any,
                                              stored: Any) -> None:
    english = make_settings(OUTAGES_LOCALE_DEFAULT_LANGUAGE="en")
    import_customers(engine, english, write_csv([row("A", language="")]))
    assert stored()["A"]["language"] == "en"


def test_second_import_updates_without_duplicates(engine: Any, settings: Any, write_csv: Any,
                                                  stored: Any) -> None:
    first = import_customers(engine, settings, write_csv([row("A"), row("B")]))
    assert (first.imported, first.updated) == (2, 0)
    second = import_customers(engine, settings, write_csv(
        [row("B", name="Trần Thị Bích", feeder="HK-472"), row("C")], name="again.csv"))
    assert (second.imported, second.updated, second.rejected) == (1, 1, 0)
    registry = stored()
    assert sorted(registry) == ["A", "B", "C"]
    assert (registry["B"]["name"], registry["B"]["feeder"]) == ("Trần Thị Bích", "HK-472")


def test_columns_missing_from_the_file_keep_their_values(
    engine: Any, settings: Any, write_csv: Any, stored: Any
) -> None:
    import_customers(engine, settings, write_csv([row("A", language="en")]))
    slim = write_csv([{"code": "A", "lon": "105.86", "lat": "21.04"}], name="slim.csv",
                     columns=("code", "lon", "lat"))
    result = import_customers(engine, settings, slim)
    a = stored()["A"]
    assert result.updated == 1
    assert (a["lon"], a["phone"], a["email"], a["language"]) == (
        105.86, "+84912345678", "an@example.vn", "en")


def test_new_phone_clears_the_invalid_mark_and_opt_outs_stay(
    engine: Any, settings: Any, write_csv: Any, stored: Any
) -> None:
    import_customers(engine, settings, write_csv([row("A"), row("B")]))
    absent = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(update(Customer).values(phone_invalid=True, sms_opt_out=True,
                                             zalo_absent_at=absent))
    import_customers(engine, settings, write_csv(
        [row("A", phone="0987654321"), row("B")], name="again.csv"))
    registry = stored()
    assert (registry["A"]["phone_invalid"], registry["A"]["sms_opt_out"]) == (False, True)
    assert (registry["B"]["phone_invalid"], registry["B"]["sms_opt_out"]) == (True, True)
    # Zalo may know the new number: it is asked again; the same number is not.
    with engine.connect() as conn:
        found = dict(conn.execute(select(Customer.code, Customer.zalo_absent_at)).all())
    assert found == {"A": None, "B": absent}


def test_corrected_email_clears_the_bounced_mark_and_the_same_email_keeps_it(
    engine: Any, settings: Any, write_csv: Any, stored: Any
) -> None:
    import_customers(engine, settings, write_csv([row("A"), row("B")]))
    with engine.begin() as conn:
        conn.execute(update(Customer).values(email_invalid=True))
    import_customers(engine, settings, write_csv(
        [row("A", email="fixed@example.vn"), row("B")], name="again.csv"))
    registry = stored()
    assert (registry["A"]["email_invalid"], registry["B"]["email_invalid"]) == (False, True)
    assert registry["A"]["email_opt_out"] is False


def _point(lon: Any, lat: Any, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": props,
            "geometry": {"type": "Point", "coordinates": [lon, lat]}}


def test_geojson_import_with_feature_index_in_reasons(
    engine: Any, settings: Any, tmp_path: Path, stored: Any
) -> None:
    features = [
        _point(105.85, 21.03, code="G1", phone="0912345678", name="Lê Văn Bình"),
        _point(21.03, 105.85, code="G2"),
        {"type": "Feature", "properties": {"code": "G3"},
         "geometry": {"type": "Polygon", "coordinates": []}},
        _point(105.86, 21.04, code=12345, language="en"),
        _point(105.86, 21.04, code="G1"),
    ]
    path = tmp_path / "customers.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}),
                    encoding="utf-8")
    result = import_customers(engine, settings, path)
    assert (result.imported, result.rejected) == (2, 3)
    assert stored()["G1"]["phone"] == "+84912345678"
    assert stored()["12345"]["language"] == "en"
    rejects = (tmp_path / "customers.rejects.csv").read_text(encoding="utf-8").splitlines()
    assert rejects[0].endswith("feature,reason")
    assert "feature 1: coordinates out of range" in rejects[1]
    assert "feature 2: geometry must be a Point, got 'Polygon'" in rejects[2]
    assert "feature 4: duplicate code G1, first seen on feature 0" in rejects[3]


def test_geojson_with_a_byte_order_mark_and_properties_that_vary(
    engine: Any, settings: Any, tmp_path: Path, stored: Any
) -> None:
    # Columns a later feature names are still written, even though the first lacks them.
    features = [_point(105.85, 21.03, code="B1"),
                _point(105.86, 21.04, code="B2", district="Ba Dinh", feeder="F1")]
    path = tmp_path / "bom.geojson"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(
        {"features": features, "type": "FeatureCollection"}).encode())
    result = import_customers(engine, settings, path)
    assert (result.imported, result.rejected) == (2, 0)
    assert (stored()["B2"]["district"], stored()["B2"]["feeder"]) == ("Ba Dinh", "F1")
    assert stored()["B1"]["lon"] == 105.85


def test_geojson_unknown_property_is_refused(engine: Any, settings: Any,
                                             tmp_path: Path) -> None:
    path = tmp_path / "c.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection",
                                "features": [_point(105.8, 21.0, code="A", colour="red")]}))
    with pytest.raises(OutagesError, match="unknown property"):
        import_customers(engine, settings, path)


def test_failed_batch_leaves_earlier_batches_and_nothing_of_itself(
    engine: Any, make_settings: Any, write_csv: Any, stored: Any, refuse_code: Any
) -> None:
    settings = make_settings(OUTAGES_CUSTOMERS_IMPORT_BATCH="100")
    rows = [row(f"C{i:03d}") for i in range(250)]
    rows.insert(10, row(""))  # a reject before the failure: its file must not appear
    refuse_code("C230")
    path = write_csv(rows)
    with pytest.raises(OutagesError, match="lines 203-252") as caught:
        import_customers(engine, settings, path)
    assert "the 200 rows before them were" in str(caught.value)
    assert sorted(stored()) == [f"C{i:03d}" for i in range(200)]
    assert sorted(p.name for p in path.parent.iterdir()) == ["customers.csv"]


def test_progress_reports_bytes_up_to_the_file_size(engine: Any, make_settings: Any,
                                                    write_csv: Any) -> None:
    settings = make_settings(OUTAGES_CUSTOMERS_IMPORT_BATCH="100")
    path = write_csv([row(f"P{i:04d}") for i in range(1000)])
    seen: list[tuple[int, int]] = []
    import_customers(engine, settings, path, progress=lambda done, total: seen.append(
        (done, total)))
    size = path.stat().st_size
    assert len(seen) >= 2 and all(total == size for _, total in seen)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert seen[-1][0] == size
