"""The domain's fixed vocabularies, each defined once.

They are `StrEnum`s: a member equals the string the database stores and JSON shows, so rows
read back compare equal to them and `--json` output is unchanged. The notifier's own
vocabularies (channels, outbox statuses) live in `notifier`.
"""

from __future__ import annotations

from enum import StrEnum


class OutageKind(StrEnum):
    PLANNED = "planned"  # a planned maintenance cut
    FAULT = "fault"  # a fault incident, opened by customers' reports


class CutStatus(StrEnum):
    """scheduled -> in_progress -> completed, or cancelled."""

    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class IncidentStatus(StrEnum):
    """reported -> confirmed -> restored, or reported -> dismissed (the crew found no fault
    on the network), or reported -> merged (a duplicate: its reports went to another
    incident); imported history of faults is `completed`."""

    REPORTED = "reported"
    CONFIRMED = "confirmed"
    RESTORED = "restored"
    COMPLETED = "completed"
    DISMISSED = "dismissed"
    MERGED = "merged"


OutageStatus = CutStatus | IncidentStatus
# Maps are keyed by `str`: rows read back carry the stored string, which equals the member.
STATUSES: dict[str, tuple[OutageStatus, ...]] = {
    OutageKind.PLANNED: tuple(CutStatus),
    OutageKind.FAULT: tuple(IncidentStatus),
}
# A cut that has not ended: customers may still be told of it, and it may still change.
CUT_PENDING = (CutStatus.SCHEDULED, CutStatus.IN_PROGRESS)
# An incident that new reports may join.
INCIDENT_OPEN = (IncidentStatus.REPORTED, IncidentStatus.CONFIRMED)
# Where an outage ends when nobody is left without power.
DONE: dict[str, OutageStatus] = {
    OutageKind.PLANNED: CutStatus.COMPLETED,
    OutageKind.FAULT: IncidentStatus.RESTORED,
}
FINISHED = (CutStatus.COMPLETED, CutStatus.CANCELLED, IncidentStatus.RESTORED,
            IncidentStatus.DISMISSED, IncidentStatus.MERGED)
# Incidents closed without an outage of their own: nobody was out in them, nothing of them
# is published or counted.
INCIDENT_VOID = (IncidentStatus.DISMISSED, IncidentStatus.MERGED)
# Where a finished outage goes back to when a customer turns out to be still out: the
# states a dispatcher works on and restores from.
REOPENED: dict[str, OutageStatus] = {
    OutageKind.PLANNED: CutStatus.IN_PROGRESS,
    OutageKind.FAULT: IncidentStatus.CONFIRMED,
}


class NoticeKind(StrEnum):
    ANNOUNCEMENT = "announcement"
    REMINDER = "reminder"
    CHANGED = "changed"
    CANCELLED = "cancelled"
    NO_LONGER_AFFECTED = "no_longer_affected"
    STARTED = "started"
    RESTORED = "restored"
    FAULT_REPORT_RECEIVED = "fault_report_received"
    FAULT_ACK = "fault_ack"
    ETR_UPDATE = "etr_update"
    ETR_PASSED = "etr_passed"
    CUT_EXTENDED = "cut_extended"  # a started cut has a new expected end
    RUNNING_LATE = "running_late"  # a started cut's expected end passed with customers out
    FAULT_NOT_AFFECTED = "fault_not_affected"  # left an incident's area when it was redrawn
    REPORT_UNRESOLVED = "report_unresolved"  # incident restored; the reporter was outside it
    STILL_OUT_ACK = "still_out_ack"  # a customer said power did not come back: we are on it
    FAULT_DISMISSED = "fault_dismissed"  # no fault on the network: the reporters are told


class ReplyVia(StrEnum):
    """How a customer said they still have no power after a restoration."""

    SMS = "sms"
    WEB = "web"
    API = "api"
    CLI = "cli"


# The notices that tell a customer an incident's ETR (the acknowledgement once one is set).
ETR_STATED = (NoticeKind.FAULT_ACK, NoticeKind.ETR_UPDATE)


class ReportSource(StrEnum):
    """How a customer's fault report reached the utility."""

    CALL = "call"
    SMS = "sms"
    WEB = "web"


class Role(StrEnum):
    ADMIN = "admin"
    DISPATCHER = "dispatcher"
    ENGINEER = "engineer"
    VIEWER = "viewer"


class Source(StrEnum):
    """Where a change came from, as the audit log records it."""

    CLI = "cli"
    HTTP = "http"
    WEBHOOK = "webhook"
    CONSOLE = "console"  # the dispatcher console (web pages)


class AreaKind(StrEnum):
    """What a named area is: a district, a ward, or the zone a feeder serves."""

    DISTRICT = "district"
    WARD = "ward"
    FEEDER_ZONE = "feeder_zone"


class Priority(StrEnum):
    """Why a customer must not lose power unwarned; an empty value means none."""

    LIFE_SUPPORT = "life_support"  # home medical equipment that needs power
    MEDICAL = "medical"
    CRITICAL_FACILITY = "critical_facility"  # a hospital, a water plant


class CallOutcome(StrEnum):
    """What came of one call to a priority customer."""

    REACHED = "reached"
    NO_ANSWER = "no_answer"
    WRONG_NUMBER = "wrong_number"
