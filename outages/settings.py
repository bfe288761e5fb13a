"""One typed settings object.

Layers, lowest first: ``config/default.toml`` shipped with the package, an optional TOML file
(``--config PATH`` or ``OUTAGES_CONFIG``), then environment variables ``OUTAGES_<SECTION>_<KEY>``.
A secret may be given as ``OUTAGES_<SECTION>_<KEY>_FILE`` naming a file that holds it.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic import ValidationError as PydanticValidationError
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from notifier.enums import ChannelName
from outages import paths, timeutil
from outages.enums import NoticeKind
from outages.errors import ConfigError

ENV_PREFIX = "OUTAGES_"
# What an outbox row's kind may be: the notices, the desk's warning of an ETR about to pass
# (notices.desk) and a subscription's confirmation code (notices.subscribers).
OUTBOX_KINDS = frozenset({*NoticeKind, "etr_passing", "subscription_code"})


# No setting needs longer; a longer one is a slip (and years past 9999 break date sums).
DURATION_MAX = timedelta(days=100 * 365)


def _duration(value: Any) -> Any:
    try:
        if isinstance(value, str):
            value = timeutil.parse_duration(value)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            value = timedelta(seconds=value)
    except OverflowError:
        raise ValueError(f"{value!r} is longer than 100 years") from None
    if isinstance(value, timedelta) and abs(value) > DURATION_MAX:
        raise ValueError(f"{timeutil.format_duration(value)} is longer than 100 years")
    return value


def _duration_list(value: Any) -> Any:
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    if isinstance(value, list):
        return [_duration(item) for item in value]
    return value


def _str_list(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


# The channels a customer's notices go on: the desk's webhook is none of them, and a
# preference naming it matched no channel at all (the customer was told nothing).
CUSTOMER_CHANNELS = tuple(name for name in ChannelName if name != ChannelName.WEBHOOK)


def channel_preference(value: str) -> str:
    """A list of channels in order of preference ("zalo, SMS,email"), as stored
    ("zalo,sms,email"); ValueError naming what is wrong."""
    names = [part.strip().lower() for part in value.split(",") if part.strip()]
    unknown = [name for name in names if name not in CUSTOMER_CHANNELS]
    if unknown or not names or len(set(names)) != len(names):
        raise ValueError(f"list each of {', '.join(CUSTOMER_CHANNELS)} at most once, "
                         "comma-separated"
                         + (f" (not {', '.join(unknown)})" if unknown else ""))
    return ",".join(names)


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("give a positive duration, e.g. 15m or 7d")
    return value


Duration = Annotated[timedelta, BeforeValidator(_duration)]
PositiveDuration = Annotated[timedelta, BeforeValidator(_duration), AfterValidator(_positive)]
Durations = Annotated[list[timedelta], NoDecode, BeforeValidator(_duration_list)]
StrList = Annotated[list[str], NoDecode, BeforeValidator(_str_list)]


class Section(BaseModel):
    # No infinite or not-a-number value: "inf" for a radius would group every report.
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True,
                              allow_inf_nan=False)


class DatabaseSettings(Section):
    url: str = "sqlite:///outages.db"

    @field_validator("url")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql")):
            raise ValueError(
                "use sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DB"
            )
        return value


class LocaleSettings(Section):
    timezone: str = "Asia/Ho_Chi_Minh"
    phone_region: str = "VN"
    default_language: str = "vi"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        timeutil.zone(value)
        return value

    @field_validator("phone_region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        import phonenumbers

        if value.upper() not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"unknown phone region {value!r}: use an ISO code such as VN")
        return value.upper()

    @field_validator("default_language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in ("vi", "en"):
            raise ValueError("use vi or en")
        return value

    @property
    def tz(self) -> ZoneInfo:
        return timeutil.zone(self.timezone)


class TerritorySettings(Section):
    min_lon: float = 102.0
    max_lon: float = 110.0
    min_lat: float = 8.0
    max_lat: float = 24.0

    @model_validator(mode="after")
    def _ordered(self) -> TerritorySettings:
        if not (-180 <= self.min_lon < self.max_lon <= 180):
            raise ValueError("min_lon must be below max_lon, both within -180..180")
        if not (-90 <= self.min_lat < self.max_lat <= 90):
            raise ValueError("min_lat must be below max_lat, both within -90..90")
        return self


class CustomersSettings(Section):
    import_batch: int = Field(default=50_000, ge=100, le=100_000)


class PlannedSettings(Section):
    min_notice: Duration = timedelta(days=5)
    max_duration: Duration = timedelta(hours=24)
    repeat_window: Duration = timedelta(days=7)
    # How far ahead a cut may be scheduled or an ETR given: later is a typing mistake.
    max_ahead: Duration = timedelta(days=365)
    reminders: Durations = [timedelta(days=1), timedelta(hours=2)]
    # Customers with a priority (life support, medical, critical facility) need longer
    # notice and hear once more, this long before the start.
    priority_min_notice: Duration = timedelta(days=7)
    priority_reminders: Durations = [timedelta(days=3)]


class LifecycleSettings(Section):
    # How far back a dispatcher may date a start, a restoration or a report: an older time
    # is a typing mistake (2025 for 2026) that would count as a long interruption in SAIDI.
    # History from another system is imported (outages interruptions import), not typed.
    max_backdate: PositiveDuration = timedelta(days=7)


class Wording(Section):
    """A text customers read, in each language messages are written in."""

    vi: str = Field(min_length=1, max_length=200)
    en: str = Field(min_length=1, max_length=200)


# What customers read for each cause code, unless the dispatcher types a reason.
DEFAULT_CAUSES: dict[str, Wording] = {
    "equipment_failure": Wording(vi="sự cố thiết bị", en="equipment failure"),
    "weather": Wording(vi="thời tiết xấu", en="bad weather"),
    "vegetation": Wording(vi="cây đổ, va chạm đường dây", en="trees touching the lines"),
    "third_party_damage": Wording(vi="bên thứ ba gây hư hỏng", en="damage by a third party"),
    "overload": Wording(vi="quá tải", en="overload"),
    "animal": Wording(vi="động vật gây sự cố", en="an animal on the equipment"),
    "unknown": Wording(vi="đang xác định nguyên nhân", en="cause being investigated"),
    "planned": Wording(vi="công tác theo kế hoạch", en="planned work"),
}


def _causes(value: Any) -> Any:
    """A table of code -> {vi, en}; a plain list of codes (or comma-separated text) keeps the
    built-in wording of the codes it names, and a code without one must be given a wording."""
    codes = _str_list(value)
    if not isinstance(codes, list):
        return value
    unworded = [code for code in codes if code not in DEFAULT_CAUSES]
    if unworded:
        raise ValueError(f"cause {unworded[0]!r} has no wording: write it as a table, "
                         f'[faults.causes] {unworded[0]} = {{ vi = "...", en = "..." }}')
    return {code: DEFAULT_CAUSES[code] for code in codes}


class FaultsSettings(Section):
    group_radius_m: float = Field(default=500.0, ge=0)
    group_window: Duration = timedelta(hours=2)
    # The desk sees "ETR passes in N min" this long before an ETR with customers still out.
    etr_warn_before: Duration = timedelta(minutes=15)
    # The fewest past incidents a suggested ETR is taken from before it falls back to a
    # wider group (cause and feeder, then cause, then all).
    etr_history_min: int = Field(default=3, ge=1)
    # A customer told "restored" who replies "still no power" this soon after is reopened in
    # the same outage; a later reply is a new fault report.
    still_out_window: Duration = timedelta(hours=12)
    causes: Annotated[dict[str, Wording], NoDecode, BeforeValidator(_causes)] = Field(
        default_factory=lambda: dict(DEFAULT_CAUSES), min_length=1)


class ReliabilitySettings(Section):
    momentary_max: Duration = timedelta(minutes=5)
    celid_s_hours: float = Field(default=4.0, gt=0)
    celid_t_hours: float = Field(default=8.0, gt=0)
    med_history_years: int = Field(default=5, ge=1, le=20)


class NoticesSettings(Section):
    quiet_hours: str = "21:00-07:00"
    start_notice: bool = False
    # A new ETR reaches a customer only when it moves at least this far from the last one
    # they were told, and at most one ETR notice reaches them per etr_min_interval.
    etr_change_min: Duration = timedelta(minutes=30)
    etr_min_interval: Duration = timedelta(minutes=30)
    hotline: str = "1900 6769"
    utility_name: str = "Dien luc Ha Noi"
    sms_ascii: bool = True
    urgent_kinds: StrList = []

    @field_validator("urgent_kinds")
    @classmethod
    def _known_kinds(cls, kinds: list[str]) -> list[str]:
        unknown = [kind for kind in kinds if kind not in OUTBOX_KINDS]
        if unknown:
            raise ValueError(f"unknown notice kind(s) {', '.join(unknown)}: use "
                             f"{', '.join(sorted(OUTBOX_KINDS))}")
        return kinds
    sms_cost_per_segment: float = Field(default=0.0075, ge=0)
    email_cost: float = Field(default=0.0, ge=0)
    zalo_cost: float = Field(default=0.0, ge=0)
    # The channels a customer without a preference of their own gets notices on, in order:
    # of channels reaching the same contact (zalo and sms both reach the phone) the first wins.
    channels: StrList = ["sms", "email"]
    console_path: str = "-"

    @model_validator(mode="before")
    @classmethod
    def _old_etr_margin(cls, data: Any) -> Any:
        """`etr_margin` is the former name of `etr_change_min`, still read."""
        if not isinstance(data, dict) or "etr_margin" not in data:
            return data
        if "etr_change_min" in data:
            raise ValueError("etr_margin is the former name of etr_change_min: set only "
                             "etr_change_min")
        data = dict(data)
        data["etr_change_min"] = data.pop("etr_margin")
        return data

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str) -> str:
        if value.strip():
            parse_quiet_hours(value)
        return value.strip()

    @field_validator("channels")
    @classmethod
    def _known_channels(cls, value: list[str]) -> list[str]:
        return channel_preference(",".join(value)).split(",")


class TwilioSettings(Section):
    account_sid: str = ""
    auth_token: str = ""
    from_number: str = ""
    messaging_service_sid: str = ""
    api_url: str = "https://api.twilio.com"
    status_callback_url: str = ""
    rate_per_second: float = Field(default=10.0, gt=0)
    timeout: Duration = timedelta(seconds=10)
    validity_period: Duration = timedelta(hours=4)
    # Per phone number and rolling hour: inbound SMS acted on (STOP always is) and replies
    # sent, so a flood from one number costs a few reply SMS at most.
    inbound_per_hour: int = Field(default=20, ge=1)
    replies_per_hour: int = Field(default=5, ge=0)
    # How long webhook MessageSids are remembered to refuse replays; older ones are dropped.
    remember_webhooks: Duration = timedelta(days=30)


class ZaloSettings(Section):
    app_id: str = ""
    secret_key: str = ""  # the application's secret key: token refresh
    # The first refresh token only: each refresh spends it and the new one Zalo returns is
    # kept in token_store, which is the truth from then on.
    refresh_token: str = ""
    token_store: str = "zalo-token.json"
    # The OA's secret key: signs the delivery-receipt webhook.
    oa_secret_key: str = ""
    # An event whose signed timestamp is further than this from now is not acted on: the
    # signature stays valid forever, so an old one is a captured request played again.
    webhook_max_age: PositiveDuration = timedelta(minutes=15)
    api_url: str = "https://business.openapi.zalo.me"
    oauth_url: str = "https://oauth.zaloapp.com"
    rate_per_second: float = Field(default=10.0, gt=0)
    timeout: Duration = timedelta(seconds=10)
    # After Zalo says a number has no account it can reach, that customer's Zalo notices go
    # by SMS for this long; then Zalo is tried again (they may have joined since).
    retry_absent_after: Duration = timedelta(days=30)
    # kind -> language -> approved ZNS template id.
    templates: dict[str, dict[str, str]] = {}
    # parameter -> characters, for a template registering a parameter with another type than
    # notifier.channels.zalo.PARAM_LIMITS assumes.
    param_limits: dict[str, Annotated[int, Field(gt=0)]] = {}


class SmtpSettings(Section):
    host: str = ""
    port: int = Field(default=587, ge=1, le=65535)
    from_address: str = Field(default="", alias="from")
    starttls: bool = True
    tls: bool = False
    username: str = ""
    password: str = ""
    rate_per_second: float = Field(default=20.0, gt=0)
    timeout: Duration = timedelta(seconds=10)


class AlertsSettings(Section):
    """Where the dispatch desk is alerted (customers still out after a restoration)."""

    email: str = ""
    webhook_url: str = ""
    # Signs each webhook body (HMAC-SHA256); keep it out of files: OUTAGES_ALERTS_WEBHOOK_SECRET.
    webhook_secret: str = ""
    timeout: Duration = timedelta(seconds=10)

    @model_validator(mode="after")
    def _signed(self) -> AlertsSettings:
        if self.webhook_url and not self.webhook_secret:
            raise ValueError("webhook_url needs webhook_secret, which signs every alert: set "
                             "OUTAGES_ALERTS_WEBHOOK_SECRET (or ..._FILE)")
        if self.webhook_url and not self.webhook_url.startswith(("https://", "http://")):
            raise ValueError("webhook_url must be an http(s) URL")
        return self


class RetrySettings(Section):
    max_attempts: int = Field(default=8, ge=1)
    max_age: Duration = timedelta(hours=6)
    base_delay: Duration = timedelta(seconds=15)


class WorkerSettings(Section):
    poll_interval: Duration = timedelta(seconds=15)
    concurrency: int = Field(default=16, ge=1, le=512)
    claim_batch: int = Field(default=500, ge=1)


class HttpSettings(Section):
    public_base_url: str = ""
    # Signs the links put in messages (one-click email unsubscribe). Keep it out of files in
    # the repository: OUTAGES_HTTP_LINK_SECRET or OUTAGES_HTTP_LINK_SECRET_FILE. Without it (or
    # without public_base_url), emails carry no unsubscribe link.
    link_secret: str = ""
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    max_area_vertices: int = Field(default=20_000, ge=4)
    public_rate_per_minute: int = Field(default=120, ge=1)
    # How long a proxy or browser may reuse a public answer; "0s" turns caching off.
    public_max_age: Duration = timedelta(seconds=60)
    # /docs (Swagger UI, served from the package): for development; turn off in production.
    docs: bool = True
    # HOST:PORT where `outages serve` also answers GET /metrics without a token, for a
    # scraper inside the utility's network; empty: only /metrics with a `read` token.
    metrics_listen: str = ""

    @field_validator("metrics_listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        if value.strip():
            parse_listen(value)
        return value.strip()


class LogSettings(Section):
    # text: one readable line per event; json: one JSON object per line for a log collector.
    format: Literal["text", "json"] = "text"


class PublicSettings(Section):
    # The fewest customers' locations an area published without login may be drawn from;
    # a smaller one would show where those customers live.
    min_count: int = Field(default=5, ge=1)
    # How far a current outage's area is widened before it is published, in metres (50 at
    # least), so its edge does not trace the last houses inside it.
    blur_m: float = Field(default=150.0, ge=50.0)
    # Base-map tiles of the public page ({z}/{x}/{y} URL template); empty: no base map.
    tile_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    tile_attribution: str = "© OpenStreetMap contributors"
    # How many days ahead the public map shows planned cuts.
    map_days: int = Field(default=7, ge=1, le=60)
    # How often a server process asks the database whether any outage changed before it
    # serves the page or a feed from its cache; "0s" asks on every request.
    recheck: Duration = timedelta(seconds=1)


class SubscriptionsSettings(Section):
    """Self-service subscriptions (double opt-in) and the limits that stop code enumeration
    and SMS pumping."""

    code_ttl: Duration = timedelta(minutes=10)
    max_attempts: int = Field(default=5, ge=1)  # wrong codes before a request is void
    resend_after: Duration = timedelta(seconds=60)  # between two codes to one request
    codes_per_request: int = Field(default=3, ge=1)
    # Confirmation codes to one phone or email, and requests from one client address.
    codes_per_contact_per_hour: int = Field(default=3, ge=1)
    codes_per_contact_per_day: int = Field(default=6, ge=1)
    requests_per_client_per_hour: int = Field(default=10, ge=1)
    # Confirmation codes sent in all, per hour: the ceiling on what pumping can cost.
    codes_per_hour: int = Field(default=200, ge=1)
    # SMS "DK <code>" requests answered per phone and day (each costs a reply).
    sms_requests_per_phone_per_day: int = Field(default=5, ge=1)
    max_per_contact: int = Field(default=10, ge=1)  # active subscriptions of one contact


class WebSettings(Section):
    """The dispatcher console (/console)."""

    # A console session ends after this long without a request, and in any case this long
    # after sign-in.
    session_idle: Duration = timedelta(hours=8)
    session_max: Duration = timedelta(hours=24)
    # Base map tiles ({z}/{x}/{y}); empty: no base map, the console's own layers only.
    tile_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    tile_attribution: str = "© OpenStreetMap contributors"

    @field_validator("tile_url")
    @classmethod
    def _tile_template(cls, value: str) -> str:
        value = value.strip()
        if value and (not value.startswith(("https://", "http://"))
                      or not all(part in value for part in ("{z}", "{x}", "{y}"))):
            raise ValueError("write an http(s) URL with {z}, {x} and {y}, or leave empty "
                             "for no base map")
        return value

    @model_validator(mode="after")
    def _idle_within_max(self) -> WebSettings:
        if self.session_idle <= timedelta(0) or self.session_max < self.session_idle:
            raise ValueError("session_idle must be positive and not above session_max")
        return self


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="_",
        env_nested_max_split=1,
        extra="forbid",
        frozen=True,
    )

    database: DatabaseSettings = DatabaseSettings()
    locale: LocaleSettings = LocaleSettings()
    territory: TerritorySettings = TerritorySettings()
    customers: CustomersSettings = CustomersSettings()
    planned: PlannedSettings = PlannedSettings()
    lifecycle: LifecycleSettings = LifecycleSettings()
    faults: FaultsSettings = FaultsSettings()
    reliability: ReliabilitySettings = ReliabilitySettings()
    notices: NoticesSettings = NoticesSettings()
    twilio: TwilioSettings = TwilioSettings()
    smtp: SmtpSettings = SmtpSettings()
    alerts: AlertsSettings = AlertsSettings()
    zalo: ZaloSettings = ZaloSettings()
    retry: RetrySettings = RetrySettings()
    worker: WorkerSettings = WorkerSettings()
    http: HttpSettings = HttpSettings()
    public: PublicSettings = PublicSettings()
    subscriptions: SubscriptionsSettings = SubscriptionsSettings()


    web: WebSettings = WebSettings()
    log: LogSettings = LogSettings()

    @property
    def tz(self) -> ZoneInfo:
        return self.locale.tz

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings)


def parse_quiet_hours(value: str) -> tuple[int, int]:
    """'21:00-07:00' to minutes after midnight (start, end); the window may cross midnight."""
    try:
        start, end = (part.strip() for part in value.split("-"))
        return _minutes(start), _minutes(end)
    except ValueError:
        raise ValueError(
            f"invalid quiet hours {value!r}: write HH:MM-HH:MM, e.g. 21:00-07:00, or leave empty"
        ) from None


def parse_listen(value: str) -> tuple[str, int]:
    """'127.0.0.1:9100' (or '[::1]:9100') to (host, port)."""
    host, _, port = value.strip().rpartition(":")
    if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"invalid address {value!r}: write HOST:PORT, e.g. 127.0.0.1:9100")
    return host.strip("[]"), int(port)


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    h, m = int(hours), int(minutes)
    if not (0 <= h < 24 and 0 <= m < 60):
        raise ValueError(hhmm)
    return h * 60 + m


def _deep_merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"configuration file {path} does not exist", field="config") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})", field="config") from None


def _secrets_from_files(environ: Mapping[str, str]) -> dict[str, str]:
    """OUTAGES_X_Y_FILE=/path becomes OUTAGES_X_Y=<file content> unless OUTAGES_X_Y is set."""
    resolved: dict[str, str] = {}
    for name, path in environ.items():
        if _is_secret_pointer(name):
            target = name[: -len("_FILE")]
            if target in environ:
                continue
            try:
                resolved[target] = Path(path).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"cannot read secret file {path}: {exc.strerror}",
                                  field=name) from None
    return resolved


def _is_secret_pointer(name: str) -> bool:
    return name.startswith(ENV_PREFIX) and name.endswith("_FILE") and name != "OUTAGES_CONFIG_FILE"


def _describe(error: PydanticValidationError) -> str:
    lines = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"])
        env = ENV_PREFIX + "_".join(str(part) for part in item["loc"][:2]).upper()
        message = item["msg"].removeprefix("Value error, ")
        if len(item["loc"]) == 1:  # a check of the whole section: the keys it names
            env = ", ".join(f"{env}_{name.upper()}" for name in _keys(item["loc"][0])
                            if re.search(rf"\b{name}\b", message)) or f"{env}_*"
        if item["type"] == "extra_forbidden":
            message = "unknown setting (check the spelling against the README)"
        lines.append(f"setting {key} (env {env}): {message}")
    return "\n".join(lines)


def load_settings(
    config_path: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build the settings from the layers; raise ConfigError naming the bad key."""
    environ = dict(os.environ if environ is None else environ)
    layers = _read_toml(paths.config_dir() / "default.toml")
    config_path = config_path or environ.get("OUTAGES_CONFIG")
    if config_path:
        layers = _deep_merge(layers, _read_toml(Path(config_path)))
    environ.update(_secrets_from_files(environ))
    # The *_FILE pointers have done their job; left in, they would read as unknown settings.
    env_only = {k: v for k, v in environ.items()
                if k != "OUTAGES_CONFIG" and not _is_secret_pointer(k)}
    try:
        return _with_environ(env_only, layers)
    except PydanticValidationError as exc:
        raise ConfigError(_describe(exc)) from None
    except SettingsError:  # a JSON-valued variable that is not JSON
        raise ConfigError("; ".join(
            f"setting {name} (env {name}): not valid JSON ({problem})"
            for name, problem in _bad_json(env_only)) or "a setting is not valid JSON"
            ) from None


def _keys(section: Any) -> list[str]:
    field = Settings.model_fields.get(str(section))
    model = field.annotation if field is not None else None
    return list(model.model_fields) if isinstance(model, type) and issubclass(
        model, BaseModel) else []


def _bad_json(environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """The OUTAGES_ variables written as JSON (an object or a list) that do not parse."""
    found = []
    for name, value in sorted(environ.items()):
        if name.startswith(ENV_PREFIX) and value.lstrip()[:1] in ("{", "["):
            try:
                json.loads(value)
            except json.JSONDecodeError as exc:
                found.append((name, f"{exc.msg} at column {exc.colno}"))
    return found


def _with_environ(environ: Mapping[str, str], layers: dict[str, Any]) -> Settings:
    """Instantiate with file layers below the given environment (not the process one)."""
    class _Layered(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            env = EnvSettingsSource(settings_cls)
            env.env_vars = {k.lower(): v for k, v in environ.items()}
            return (env, _DictSource(settings_cls, layers))

    return _Layered()


class _DictSource(PydanticBaseSettingsSource):
    def __init__(self, settings_cls: type[BaseSettings], data: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self._data = data

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return self._data
