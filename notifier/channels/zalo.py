"""Zalo Notification Service (ZNS): a pre-approved template message to a phone number, sent
over httpx with explicit timeouts.

A ZNS message is not free text: the outbox body holds the template's parameters as a JSON
object (templates/zalo/<lang>/<kind>.json, rendered from the same context as the SMS), and
`templates[kind][lang]` names the approved template they fill. The OA access token lives an
hour or a day; it is refreshed with a single-use refresh token, and the new refresh token
Zalo returns is written to `token_store` before the new access token is used, so a restart
never starts from a spent one.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Self

import httpx

from notifier.channels.base import MAYBE_SENT, DeliveryError, Message, ProviderChannel, Receipt
from notifier.enums import ChannelName, Outcome
from notifier.render import Templates

# Zalo's ZNS error codes (zalo.cloud/zns/guidelines/handle-error-code): 0 is success.
INVALID_TOKEN = -124
# Worth trying again later: unknown error, out of quota, daily limit of the OA reached. Not
# the night-time ban (-133): final for this notice, which then goes by SMS at once (a fault
# acknowledgement at 22:00 must not wait for the morning); the next notices still try Zalo.
TRANSIENT = {-100, -115, -144, INVALID_TOKEN}
# The recipient cannot get ZNS (phone number invalid for Zalo, inactive or refusing user, no
# Zalo account, account cannot receive ZNS): permanent for this channel only (Outcome.ABSENT);
# the phone may still take an SMS, so no contact flag is set and the notice falls back to SMS.
NOT_ON_ZALO = {-108, -114, -118, -119, -139}
# Characters Zalo takes in each parameter of ours (templates/zalo/params.json): the limit
# is set by the type a parameter is registered with in the template, not by ZNS as a whole
# (zalo.cloud ZNS parameter rules). Register each as the type named here; zalo.param_limits
# overrides these for a template registered otherwise. The times are worded ("08:00 ngày
# mai"), which Zalo's own time type (20, fixed formats) refuses, so they are custom labels.
PARAM_LIMITS = {"utility": 100,  # Tên sản phẩm / Thương hiệu
                "area": 80,  # Địa chỉ
                "reason": 30, "start": 30, "end": 30, "etr": 30,  # Nhãn tùy chỉnh
                "restored_at": 30, "reported_at": 30,
                "hotline": 50}  # Thông tin liên hệ
OTHER_PARAM_LIMIT = 30  # a parameter not listed: taken as a custom label (Nhãn tùy chỉnh)
# The request went out and no answer came: Zalo may have taken it.
UNANSWERED = (httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError)
EXPIRY_MARGIN = 60.0  # seconds: refresh a token this long before Zalo says it expires


class ZaloChannel(ProviderChannel):
    name = ChannelName.ZALO
    contact = "phone"
    provider = "zalo"
    templates = Templates(body="json")
    price_setting = "zalo_cost"
    fallback = ChannelName.SMS

    def __init__(self, *, app_id: str, secret_key: str, refresh_token: str,
                 templates: Mapping[str, Mapping[str, str]], token_store: str,
                 api_url: str = "https://business.openapi.zalo.me",
                 oauth_url: str = "https://oauth.zaloapp.com", timeout: float = 10.0,
                 param_limits: Mapping[str, int] | None = None) -> None:
        self._templates = templates
        self._limits = {**PARAM_LIMITS, **(param_limits or {})}
        self._api_url = api_url.rstrip("/")
        self._http = httpx.Client(timeout=httpx.Timeout(timeout))
        self._tokens = TokenStore(Path(token_store), refresh_token=refresh_token,
                                  refresh=lambda spent: self._refresh(app_id, secret_key,
                                                                      oauth_url, spent))

    @classmethod
    def configured(cls, config: Mapping[str, Any]) -> bool:
        return bool(config["app_id"] and config["secret_key"] and config["refresh_token"])

    @classmethod
    def from_settings(cls, config: Mapping[str, Any]) -> Self:
        return cls(app_id=config["app_id"], secret_key=config["secret_key"],
                   refresh_token=config["refresh_token"], templates=config["templates"],
                   token_store=config["token_store"], api_url=config["api_url"],
                   oauth_url=config["oauth_url"], timeout=config["timeout"].total_seconds(),
                   param_limits=config["param_limits"])

    def send(self, message: Message) -> Receipt:
        payload = {"phone": message.recipient.removeprefix("+"),
                   "template_id": self._template_id(message),
                   "template_data": parameters(message.body, self._limits),
                   "tracking_id": tracking_id(message.id, message.key)}
        token = self._tokens.access_token()
        answer = self._post(token, payload)
        if answer.get("error") == INVALID_TOKEN:  # expired or revoked early: refresh once
            answer = self._post(self._tokens.renew(spent=token), payload)
        error = int(answer.get("error", -100))
        if error:
            raise classify(error, str(answer.get("message", "")))
        return Receipt(provider_id=str((answer.get("data") or {}).get("msg_id") or "") or None)

    def _template_id(self, message: Message) -> str:
        template = self._templates.get(message.kind, {}).get(message.language)
        if not template:
            raise DeliveryError(f"no ZNS template for {message.kind} in {message.language} "
                                f"(zalo.templates.{message.kind}.{message.language})",
                                code="no_template", permanent=True)
        return template

    def _post(self, token: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        return self._call("POST", f"{self._api_url}/message/template", json=payload,
                          headers={"access_token": token}, sends=True)

    def _refresh(self, app_id: str, secret_key: str, oauth_url: str,
                 refresh_token: str) -> dict[str, Any]:
        answer = self._call("POST", f"{oauth_url.rstrip('/')}/v4/oa/access_token",
                            headers={"secret_key": secret_key},
                            data={"app_id": app_id, "refresh_token": refresh_token,
                                  "grant_type": "refresh_token"})
        if not answer.get("access_token") or not answer.get("refresh_token"):
            # Not retried here: the worker retries the notice with backoff meanwhile.
            raise DeliveryError(f"Zalo token refresh refused: {answer.get('error_name') or ''} "
                                f"{answer.get('error_description') or answer}",
                                code="token_refresh", permanent=False)
        return answer

    def _call(self, method: str, url: str, *, sends: bool = False,
              **options: Any) -> dict[str, Any]:
        try:
            response = self._http.request(method, url, **options)
        except httpx.HTTPError as exc:
            # Zalo looks a message up only by the msg_id this answer would have carried (not
            # by tracking_id), so the retry sends again; a receipt arriving before it (found
            # by tracking_id) settles the row first.
            code = MAYBE_SENT if sends and isinstance(exc, UNANSWERED) else "network"
            raise DeliveryError(f"network: {exc}", code=code, permanent=False) from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise DeliveryError(f"HTTP {response.status_code}", code=str(response.status_code),
                                permanent=False)
        try:
            answer = response.json()
        except ValueError as exc:
            raise DeliveryError(f"HTTP {response.status_code}: not JSON", code="bad_answer",
                                permanent=response.status_code < 500) from exc
        return answer if isinstance(answer, dict) else {}

    def close(self) -> None:
        self._http.close()


def parameters(body: str, limits: Mapping[str, int]) -> dict[str, str]:
    """The template's parameters from the outbox body, each within its limit: one over it is
    refused here, before Zalo is asked (which refuses it too, or cuts it), so the notice goes
    by SMS whole."""
    try:
        values = json.loads(body)
    except ValueError as exc:
        raise DeliveryError("the ZNS parameters are not JSON", code="bad_params",
                            permanent=True) from exc
    if not isinstance(values, dict):
        raise DeliveryError("the ZNS parameters are not an object", code="bad_params",
                            permanent=True)
    params = {str(name): str(value) for name, value in values.items()}
    too_long = [f"{name} ({len(value)} > {limit})" for name, value in sorted(params.items())
                if len(value) > (limit := limits.get(name, OTHER_PARAM_LIMIT))]
    if too_long:
        raise DeliveryError(f"ZNS parameters over their limit in characters: "
                            f"{', '.join(too_long)} (zalo.param_limits, as the template "
                            f"registers them)", code="param_too_long", permanent=True)
    return params


def tracking_id(row_id: int, key: str) -> str:
    """The tracking_id Zalo carries back in the delivery receipt: the outbox key itself runs
    past Zalo's 48 characters and holds ':'. The row id names the row (the same on every
    retry); a digest of its key lets a receipt prove it names one of ours, not a number
    another sender on this OA chose. Letters and digits only, at most 40 characters."""
    return f"{row_id}k{hashlib.sha256(key.encode()).hexdigest()[:20]}"


def tracked_row(tracking: str) -> int | None:
    """The outbox row id a tracking_id names (check it against tracking_id), or None."""
    number, separator, _ = tracking.partition("k")
    # Another sender's id may hold any digits: only what fits a row id is looked up.
    ours = separator and number.isascii() and number.isdigit() and len(number) <= 18
    return int(number) if ours else None


def classify(error: int, text: str) -> DeliveryError:
    return DeliveryError(f"Zalo {error}: {text}", code=str(error),
                         permanent=error not in TRANSIENT,
                         outcome=Outcome.ABSENT if error in NOT_ON_ZALO else None)


class TokenStore:
    """The OA access token and the current refresh token, kept in one small JSON file (mode
    0600) shared by the workers on this host. A refresh holds an exclusive lock on the file,
    and rereads it first: a refresh token is single-use, so of two workers finding the token
    expired only one may spend it; the other takes the token the first one wrote."""

    def __init__(self, path: Path, *, refresh_token: str,
                 refresh: Any) -> None:
        self.path = path
        self.initial = refresh_token  # used only until the file holds a newer one
        self.refresh = refresh  # refresh token -> Zalo's answer
        self.lock = threading.Lock()
        self.cached: dict[str, Any] = {}

    def access_token(self) -> str:
        state = self.cached or self._read()
        if _fresh(state):
            self.cached = state
            return str(state["access_token"])
        return self.renew(spent=state.get("access_token"))

    def renew(self, *, spent: str | None) -> str:
        """A new access token, unless another thread or worker already replaced `spent`."""
        with self.lock, self._file_lock():
            state = self._read()
            if _fresh(state) and state["access_token"] != spent:
                self.cached = state
                return str(state["access_token"])
            answer = self.refresh(state.get("refresh_token") or self.initial)
            state = {"access_token": answer["access_token"],
                     "refresh_token": answer["refresh_token"],
                     "expires_at": time.time() + float(answer.get("expires_in") or 3600)}
            self._write(state)
            self.cached = state
            return str(state["access_token"])

    def _read(self) -> dict[str, Any]:
        try:
            state = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        return state if isinstance(state, dict) else {}

    def _write(self, state: Mapping[str, Any]) -> None:
        temporary = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(state, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, self.path)

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def _fresh(state: Mapping[str, Any]) -> bool:
    return bool(state.get("access_token")
                and float(state.get("expires_at") or 0) - EXPIRY_MARGIN > time.time())
