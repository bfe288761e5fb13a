"""What the lifecycle answers: an outage view (a cut or an incident), its history, its
customers, a fault report, durations, an import, and the public descriptions. Times are
local ISO 8601 text, as the views have always given them."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from outages.results import Result


class CutWarning(Result):
    """Something a dispatcher should look at; the change was made anyway."""

    code: str
    message: str
    count: int
    cut_ids: list[int]


class Change(Result):
    added: int
    dropped: int


class RestoreStep(Result):
    restored: int
    remaining: int
    scope: str = Field(description="all, area or customers")


class Revision(Result):
    revision: int
    action: str
    actor: str | None
    at: str | None
    start: str | None
    end: str | None
    etr: str | None
    note: str | None
    details: dict[str, Any] | None


class OutageCustomer(Result):
    code: str
    district: str | None
    feeder: str | None
    added_revision: int | None
    dropped_revision: int | None
    start: str | None
    end: str | None


class CustomersPage(Result):
    total: int
    limit: int
    offset: int


class Report(Result):
    """A customer's report of no power, as stored on its incident."""

    id: int
    customer: str | None
    phone: str | None
    lon: float | None
    lat: float | None
    text: str | None
    source: str | None
    reports: int | None
    first_at: str | None
    last_at: str | None


class OutsideReport(Result):
    """A report on an incident from outside its affected set."""

    report_id: int
    customer: str | None
    reports: int
    first_at: str | None


class EtrSuggestion(Result):
    """A first ETR from history, for a dispatcher to accept or change; never sent as is."""

    at: str = Field(description="the incident's start plus the median restoration time")
    median_minutes: int
    based_on: int = Field(description="past incidents the median is taken from")
    basis: str = Field(description="cause_and_feeder, cause or all: the past incidents used")


class ReopenedCustomer(Result):
    """A customer who said they still had no power after being told it was back."""

    customer: str
    restored_at: str | None = Field(description="the restoration recorded for them, cleared "
                                    "by their reply")
    replied_at: str | None
    via: str = Field(description="sms, web, api or cli")
    still_out: bool = Field(description="not restored again since")
    alert_id: int


class StillOut(Result):
    """What a "still no power" reply did: reopened the customer in the outage that had
    restored them, or (outside faults.still_out_window) filed a new fault report."""

    customer: str
    reopened: bool
    already: bool = Field(description="reopened by an earlier reply; nothing changed")
    outage_id: int
    alert_id: int | None
    report_id: int | None
    restored_at: str | None
    replied_at: str | None


class AlertView(Result):
    """A 'partial restoration' alert for the dispatch desk: customers of one outage still
    out after it was restored for them. Open while any of them is still out."""

    id: int
    kind: str
    outage_id: int
    outage_kind: str
    outage_status: str
    area_name: str | None
    opened_at: str | None
    last_at: str | None
    customers: int = Field(description="customers who replied")
    still_out: int = Field(description="of them, not restored again yet")
    open: bool


class OutageView(Result):
    """A planned cut or a fault incident. Optional keys appear only where they apply: the
    breakdowns, warnings and what the last change did."""

    id: int
    public_ref: str | None = Field(description="the outage's name in public answers")
    kind: str
    status: str
    revision: int
    area_name: str | None
    feeders: list[str] | None
    reason: str | None = Field(description="as customers read it, in the default language; "
                               "for a fault, only what the dispatcher typed")
    reason_en: str | None = Field(description="as customers read it in English")
    work: str | None
    cause: str | None
    external_id: str | None
    start: str | None
    end: str | None
    urgent: bool
    urgent_reason: str | None
    cancel_reason: str | None
    dismiss_reason: str | None = Field(None, description="a dismissed incident: why the crew "
                                       "found no fault on the network")
    merged_into: int | None = Field(None, description="a merged incident: the incident its "
                                    "reports went to")
    created_by: str | None
    planned_start: str | None
    planned_end: str | None
    actual_start: str | None
    actual_end: str | None
    etr: str | None
    created_at: str | None
    updated_at: str | None
    affected: int
    dropped: int
    restored: int
    remaining: int = Field(description="customers without power now (0 before the start)")
    notice_lead: str | None = None
    etr_state: str | None = Field(None, description="an open incident with an ETR: on_time, "
                                  "passes_soon (within faults.etr_warn_before) or overdue "
                                  "(passed, no new ETR set)")
    etr_minutes_left: int | None = Field(None, description="minutes until the ETR; negative "
                                         "once it has passed")
    suggested_etr: EtrSuggestion | None = None
    by_district: dict[str, int] | None = None
    by_feeder: dict[str, int] | None = None
    warnings: list[CutWarning] | None = None
    earliest_legal_start: str | None = None
    repairs: list[str] | None = None
    change: Change | None = None
    dropped_now: int | None = None
    note: str | None = None
    step: RestoreStep | None = None
    reports: list[Report] | None = None
    reporters_outside: list[OutsideReport] | None = None
    still_out_after_restoration: int | None = Field(
        None, description="customers who replied they still had no power after being told "
        "it was back, and are not restored again yet")
    reopened: list[ReopenedCustomer] | None = None
    history: list[Revision] | None = None
    customers: list[OutageCustomer] | None = None
    customers_page: CustomersPage | None = None


class FaultReport(Result):
    """A recorded report and the outage it joined (an incident, or a planned cut the caller
    is out in) or the incident it opened."""

    report_id: int
    outage_id: int
    kind: str
    new_incident: bool
    distance_m: float | None
    customer: str | None
    phone: str | None
    lon: float | None
    lat: float | None
    reports: int
    status: str
    at: str | None


class OutageDuration(Result):
    id: int
    external_id: str | None
    area_name: str | None
    type: str = Field(description="planned or unplanned")
    status: str
    cause: str | None
    urgent: bool
    planned_start: str | None
    planned_end: str | None
    actual_start: str | None
    actual_end: str | None
    customers: int
    customer_minutes: float
    still_out: int
    notice_lead_hours: float | None


class HistoryImport(Result):
    imported: int
    rejected: int
    outages_created: int
    rejects_file: str | None
    rejects_csv: str | None = None


_PUBLIC_COUNT = ('customers affected; a count under public.min_count reads "<N", N being that '
                 'minimum, and a total beside district counts hiding fewer than N reads ">M", '
                 "M being what the counts shown add up to (the privacy rule)")


class PublicCut(Result):
    ref: str | None = Field(description="the cut's public reference (not its internal id)")
    area_name: str | None
    districts: list[str]
    start: str | None
    end: str | None
    reason: str | None
    reason_en: str | None = Field(None, description="the reason in English, when given")
    status: str
    customers_affected: int | str = Field(description=_PUBLIC_COUNT)


class PublicDay(Result):
    district: str
    date: str
    cuts: list[PublicCut]


class PublicLookup(Result):
    cuts: list[PublicCut]


class CurrentOutage(Result):
    ref: str | None = Field(description="the outage's public reference (not its internal id)")
    kind: str
    status: str
    area_name: str | None
    area: dict[str, Any] | None = Field(description="GeoJSON geometry widened by public.blur_m "
                                        "metres; null when it would show where a few "
                                        "customers live (see districts)")
    districts: list[str]
    customers_affected: int | str = Field(description=_PUBLIC_COUNT)
    district_counts: dict[str, int | str] = Field(
        default_factory=dict, description="customers affected per district, under the same rule")
    reason: str | None
    started: str | None
    etr: str | None


class AreaProposal(Result):
    """An automatic area for a fault, shown before it is saved."""

    proposed: bool
    area: dict[str, Any] = Field(description="GeoJSON geometry")
    area_km2: float
    customers: int
    hint: str


class PublicOutages(Result):
    outages: list[CurrentOutage]


class PriorityCallEntry(Result):
    """One priority customer to call about an outage, and the last call's outcome."""

    code: str
    name: str | None
    phone: str | None
    address: str | None
    priority: str
    outcome: str | None = Field(description="reached, no_answer or wrong_number; empty "
                                "before the first call")
    note: str | None
    called_by: str | None
    called_at: str | None
    calls: int


class CallList(Result):
    """The priority customers an outage affects (life support first), to be called."""

    outage_id: int
    kind: str
    count: int
    calls: list[PriorityCallEntry]
