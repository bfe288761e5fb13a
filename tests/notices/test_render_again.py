"""A queued notice rendered again from its outbox row alone: on the channel it falls back to
(Zalo to SMS, SMS to email), or in the language or on the day its recipient now needs. Every
outage notice kind must render that way in every channel and language, or a failed Zalo
message of that kind, or one customer's new language, stops the worker's claims."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import Engine

from notifier.channels import REGISTRY
from outages import paths
from outages.enums import NoticeKind
from outages.lifecycle import core as lc
from outages.notices.queue import LANGUAGES, notice_context, render
from outages.settings import Settings
from tests.notices import helpers as h

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
# Kinds queued about an outage (replies and subscription messages are rendered when sent).
OUTAGE_KINDS = sorted(kind.value for kind in NoticeKind)


def _templated(channel: str, language: str, kind: str) -> bool:
    folder = paths.templates_dir() / channel / language
    return any(folder.glob(f"{kind}.*"))


@pytest.mark.parametrize("outage_kind", ["planned", "fault"])
def test_every_notice_kind_renders_again_from_its_row(
        engine: Engine, make_settings: Callable[..., Settings], outage_kind: str) -> None:
    settings = make_settings()
    outage_id = h.add_outage(engine, kind=outage_kind, status="in_progress",
                             start=NOW - timedelta(hours=2), end=NOW + timedelta(hours=2),
                             actual_start=NOW - timedelta(hours=1), etr=NOW + timedelta(hours=1))
    with engine.connect() as conn:
        outage = lc.load(conn, outage_id)
    rendered = 0
    for kind in OUTAGE_KINDS:
        row = SimpleNamespace(kind=kind, ref_at=NOW + timedelta(hours=1),
                              due_at=NOW + timedelta(hours=1), customer_id=1)
        for channel in REGISTRY:
            for language in LANGUAGES:
                if not _templated(channel, language, kind):
                    continue
                text = render(settings, channel, language, kind,
                              notice_context(settings, outage, row), now=NOW)
                assert text.body, (kind, channel, language)
                rendered += 1
    assert rendered >= 2 * len(LANGUAGES) * 10  # sms and email at least, most kinds
