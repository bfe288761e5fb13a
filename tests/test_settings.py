"""Settings layers: defaults < file < environment; secrets from files; bad values name the key."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from outages.errors import ConfigError
from outages.settings import load_settings


def write_toml(tmp_path: Path, text: str, name: str = "site.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults() -> None:
    settings = load_settings(environ={})
    assert settings.database.url == "sqlite:///outages.db"
    assert settings.locale.timezone == "Asia/Ho_Chi_Minh"
    assert settings.locale.phone_region == "VN"
    assert (settings.territory.min_lon, settings.territory.max_lat) == (102.0, 24.0)
    assert settings.planned.reminders == [timedelta(days=1), timedelta(hours=2)]


def test_file_over_defaults_and_environment_over_file(tmp_path: Path) -> None:
    path = write_toml(tmp_path, '[planned]\nmin_notice = "3d"\nmax_duration = "12h"\n'
                                '[locale]\ntimezone = "Europe/Berlin"\n')
    from_file = load_settings(path, environ={})
    assert (from_file.planned.min_notice, from_file.planned.max_duration) == (
        timedelta(days=3), timedelta(hours=12))
    assert from_file.planned.repeat_window == timedelta(days=7)  # untouched default
    layered = load_settings(path, environ={"OUTAGES_PLANNED_MIN_NOTICE": "1h",
                                           "OUTAGES_PLANNED_REMINDERS": "2d,30m"})
    assert layered.planned.min_notice == timedelta(hours=1)
    assert layered.planned.max_duration == timedelta(hours=12)
    assert layered.planned.reminders == [timedelta(days=2), timedelta(minutes=30)]
    assert layered.tz.key == "Europe/Berlin"


def test_outages_config_variable_names_the_file(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "[customers]\nimport_batch = 250\n")
    assert load_settings(environ={"OUTAGES_CONFIG": str(path)}).customers.import_batch == 250


def test_secret_from_file_unless_the_value_is_given(tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text("s3cret\n", encoding="utf-8")
    env = {"OUTAGES_TWILIO_AUTH_TOKEN_FILE": str(secret)}
    assert load_settings(environ=env).twilio.auth_token == "s3cret"
    both = {**env, "OUTAGES_TWILIO_AUTH_TOKEN": "direct"}
    assert load_settings(environ=both).twilio.auth_token == "direct"
    with pytest.raises(ConfigError, match="cannot read secret file"):
        load_settings(environ={"OUTAGES_SMTP_PASSWORD_FILE": str(tmp_path / "missing")})


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"OUTAGES_LOCALE_TIMEZONE": "Mars/Olympus"}, "locale.timezone"),
        ({"OUTAGES_PLANNED_MIN_NOTICE": "soon"}, "planned.min_notice"),
        ({"OUTAGES_LOCALE_PHONE_REGION": "XX"}, "locale.phone_region"),
        ({"OUTAGES_TERRITORY_MIN_LON": "120"}, "territory"),
        ({"OUTAGES_CUSTOMERS_IMPORT_BATCH": "5"}, "customers.import_batch"),
        ({"OUTAGES_DATABASE_URL": "mysql://x"}, "database.url"),
        ({"OUTAGES_ZALO_WEBHOOK_MAX_AGE": "0s"}, "zalo.webhook_max_age"),
        ({"OUTAGES_LIFECYCLE_MAX_BACKDATE": "0s"}, "lifecycle.max_backdate"),
    ],
)
def test_invalid_value_names_the_key(env: dict[str, str], names: str) -> None:
    with pytest.raises(ConfigError, match=names.replace(".", r"\.")) as caught:
        load_settings(environ=env)
    assert caught.value.exit_code == 78


def test_unknown_key_in_file_and_bad_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"planned\.min_notic.*unknown setting"):
        load_settings(write_toml(tmp_path, '[planned]\nmin_notic = "1d"\n'), environ={})
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(write_toml(tmp_path, "[planned\n", "broken.toml"), environ={})
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", environ={})


def test_cli_config_option_and_exit_78(cli: Any, tmp_path: Path, add_customers: Any) -> None:
    add_customers([{"code": "A", "lon": 105.8, "lat": 21.0}])
    path = write_toml(tmp_path, "[locale]\ntimezone = \"Europe/Berlin\"\n")
    shown = json.loads(cli("--config", str(path), "customers", "show", "A", "--json").stdout)
    assert shown["created_at"][-6:] in ("+01:00", "+02:00")
    refused = cli("customers", "list", OUTAGES_LOCALE_TIMEZONE="Nowhere/City")
    assert refused.exit_code == 78
    assert "OUTAGES_LOCALE_TIMEZONE" in refused.stderr


def test_every_cause_has_a_wording_per_language(tmp_path: Path) -> None:
    defaults = load_settings(environ={}).faults.causes
    assert defaults["equipment_failure"].en == "equipment failure"
    assert all(wording.vi and wording.en for wording in defaults.values())
    added = load_settings(write_toml(tmp_path, '[faults.causes]\nlightning = { vi = "sét đánh",'
                                     ' en = "lightning" }\n'), environ={}).faults.causes
    assert added["lightning"].vi == "sét đánh" and "weather" in added
    listed = load_settings(environ={"OUTAGES_FAULTS_CAUSES": "weather,unknown"}).faults.causes
    assert list(listed) == ["weather", "unknown"] and listed["weather"].en == "bad weather"
    with pytest.raises(ConfigError, match="cause 'lightning' has no wording"):
        load_settings(write_toml(tmp_path, '[faults]\ncauses = ["weather", "lightning"]\n'),
                      environ={})
    with pytest.raises(ConfigError, match=r"faults\.causes\.storm\.en"):
        load_settings(write_toml(tmp_path, '[faults.causes]\nstorm = { vi = "bão" }\n'),
                      environ={})


def test_etr_change_min_is_also_read_by_its_former_name_etr_margin(tmp_path: Path) -> None:
    assert load_settings(environ={}).notices.etr_change_min == timedelta(minutes=30)
    old = load_settings(environ={"OUTAGES_NOTICES_ETR_MARGIN": "45m"})
    assert old.notices.etr_change_min == timedelta(minutes=45)
    path = write_toml(tmp_path, '[notices]\netr_margin = "1h"\n')
    assert load_settings(path, environ={}).notices.etr_change_min == timedelta(hours=1)
    with pytest.raises(ConfigError, match=r"notices.*etr_margin is the former name"):
        load_settings(path, environ={"OUTAGES_NOTICES_ETR_CHANGE_MIN": "20m"})


def test_alert_webhook_needs_its_secret_which_may_come_from_a_file(tmp_path: Path) -> None:
    url = "https://desk.example.vn/hooks/outages"
    with pytest.raises(ConfigError, match="webhook_secret") as refused:
        load_settings(environ={"OUTAGES_ALERTS_WEBHOOK_URL": url})
    assert "OUTAGES_ALERTS" in str(refused.value)
    secret = tmp_path / "secret"
    secret.write_text("s3cret\n")
    settings = load_settings(environ={"OUTAGES_ALERTS_WEBHOOK_URL": url,
                                      "OUTAGES_ALERTS_WEBHOOK_SECRET_FILE": str(secret)})
    assert (settings.alerts.webhook_url, settings.alerts.webhook_secret) == (url, "s3cret")
    assert settings.faults.still_out_window == timedelta(hours=12)
