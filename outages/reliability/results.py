"""What the reliability reports answer: IEEE 1366 indices per group, and service KPIs."""

from __future__ import annotations

from pydantic import Field

from outages.results import Result

# An index is a number, null when its denominator is zero; CEMI/CEMSMI map n to a number.
IndexValue = int | float | dict[str, float | None] | None


class Group(Result):
    key: str
    customers_served: int | float
    indices: dict[str, IndexValue] = Field(
        description="SAIFI, SAIDI, CAIDI, ... by name (null: zero denominator)")


class MajorEventDay(Result):
    date: str
    saidi: float


class MedYear(Result):
    """The MED threshold of one reporting year (a calendar year of local days)."""

    year: int
    t_med: float | None = Field(description="null: fewer than two non-zero history days")
    history_from: str = Field(description="first local day of the history searched")
    history_to: str = Field(description="last local day of the history (the year before)")
    history_years: float = Field(description="years of history with data in the window")
    history_short: bool = Field(description="fewer years than reliability.med_history_years")
    unrestored_left_out: int = Field(description="interruptions in the history with no "
                                     "restoration recorded, left out of it")


class ReliabilityReport(Result):
    first: str = Field(alias="from")
    last: str = Field(alias="to")
    timezone: str
    customers_served: int | float
    t_med: float | None = Field(description="T_MED of the period's first reporting year; "
                                "each year's is in t_med_by_year")
    t_med_by_year: list[MedYear]
    major_event_days: list[MajorEventDay]
    groups: list[Group]
    totals: Group


class LateCut(Result):
    outage_id: int
    external_id: str | None
    area_name: str | None
    planned_start: str | None
    notified_at: str | None
    lead_source: str
    lead_hours: float
    urgent: bool
    urgent_reason: str | None


class PlannedNotice(Result):
    min_notice: str
    cuts: int
    on_time: int
    share_on_time: float | None
    lead_source: dict[str, int]
    late: list[LateCut]


class Spread(Result):
    count: int
    median_minutes: float | None
    p90_minutes: float | None


class FaultResponse(Result):
    incidents: int
    to_acknowledgement: Spread
    to_restoration: Spread


class EtrLead(Result):
    """Every ETR given so long before the restoration, and how close each came."""

    lead: str = Field(description="how long before the restoration the ETR was given")
    etrs: int
    within_30_min: int
    share: float | None
    median_error_minutes: float | None = Field(description="restoration minus ETR: above zero "
                                               "when power came back later than said")


class EtrAccuracy(Result):
    incidents: int
    within_30_min: int
    share: float | None
    by_lead: list[EtrLead]


class ChannelDelivery(Result):
    channel: str
    total: int
    statuses: dict[str, int]
    attempted: int
    delivered_rate: float | None
    accepted_rate: float | None


class ServiceReport(Result):
    first: str | None = Field(alias="from")
    last: str | None = Field(alias="to")
    timezone: str
    planned_notice: PlannedNotice
    fault_response: FaultResponse
    etr_accuracy: EtrAccuracy
    delivery: list[ChannelDelivery]
