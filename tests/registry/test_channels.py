"""A customer's channel preference: from the import's `channels` column, changed with
`customers update --channels`, checked like every other field."""

from __future__ import annotations

import json
from typing import Any

import pytest

from outages.errors import ConfigError
from outages.registry.importer import import_customers
from tests.registry.conftest import read_rejects, row


def test_import_stores_the_preference_normalised_and_rejects_unknown_channels(
    engine: Any, settings: Any, write_csv: Any, stored: Any,
) -> None:
    path = write_csv([row("PD1", channels="Zalo, SMS,email"), row("PD2"),
                      row("PD3", channels="zalo,fax"), row("PD4", channels="sms,sms")])
    result = import_customers(engine, settings, path)
    assert (result.imported, result.rejected) == (2, 2)
    customers = stored()
    assert customers["PD1"]["channels"] == "zalo,sms,email"
    assert customers["PD2"]["channels"] is None  # the notices.channels setting applies
    reasons = [r["reason"] for r in read_rejects(result.rejects_file)]
    assert "not fax" in reasons[0] and "at most once" in reasons[1]


def test_an_import_without_the_column_keeps_the_preferences(
    engine: Any, settings: Any, write_csv: Any, stored: Any,
) -> None:
    import_customers(engine, settings, write_csv([row("PD1", channels="zalo,email")]))
    columns = [c for c in ("code", "name", "phone", "lon", "lat")]
    import_customers(engine, settings, write_csv([row("PD1", name="B")], columns=columns))
    assert (stored()["PD1"]["name"], stored()["PD1"]["channels"]) == ("B", "zalo,email")


def test_cli_sets_and_clears_the_preference(cli: Any, add_customers: Any) -> None:
    add_customers([{"code": "C1", "lon": 105.8, "lat": 21.0, "phone": "+84912345678"}])
    shown = json.loads(cli("customers", "update", "C1", "--channels", "zalo,sms",
                           "--json").stdout)
    assert shown["channels"] == "zalo,sms"
    refused = cli("customers", "update", "C1", "--channels", "pigeon")
    assert refused.exit_code == 2 and "--channels" in refused.stderr
    cleared = json.loads(cli("customers", "update", "C1", "--channels", "", "--json").stdout)
    assert cleared["channels"] is None


def test_a_preference_naming_the_desk_webhook_is_refused_not_stored_to_silence_the_customer(
    cli: Any, add_customers: Any, make_settings: Any,
) -> None:
    """"webhook" is the dispatch desk's channel, never a customer's: stored in a preference
    ("webhook,sms"), it matched none of the customer's channels and every notice of every
    cut passed the customer by, the SMS they listed too."""
    add_customers([{"code": "C1", "lon": 105.8, "lat": 21.0, "phone": "+84912345678"}])
    refused = cli("customers", "update", "C1", "--channels", "webhook,sms")
    assert refused.exit_code == 2 and "--channels" in refused.stderr, refused.stdout
    with pytest.raises(ConfigError, match="webhook"):
        make_settings(OUTAGES_NOTICES_CHANNELS="webhook,sms")
