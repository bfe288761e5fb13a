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


class OutageStatus(StrEnum):
    # planned cuts: scheduled -> in_progress -> completed, or cancelled
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    # fault incidents: reported -> confirmed -> restored
    REPORTED = "reported"
    CONFIRMED = "confirmed"
    RESTORED = "restored"


# The statuses each kind can be in. Imported history of either kind is `completed`. Maps are
# keyed by `str`, as rows read back carry the stored string, which equals the member.
STATUSES: dict[str, tuple[OutageStatus, ...]] = {
    OutageKind.PLANNED: (OutageStatus.SCHEDULED, OutageStatus.IN_PROGRESS,
                         OutageStatus.COMPLETED, OutageStatus.CANCELLED),
    OutageKind.FAULT: (OutageStatus.REPORTED, OutageStatus.CONFIRMED, OutageStatus.RESTORED,
                       OutageStatus.COMPLETED),
}
# A cut that has not ended: customers may still be told of it, and it may still change.
CUT_PENDING = (OutageStatus.SCHEDULED, OutageStatus.IN_PROGRESS)
# An incident that new reports may join.
INCIDENT_OPEN = (OutageStatus.REPORTED, OutageStatus.CONFIRMED)
# Where an outage ends when nobody is left without power.
DONE: dict[str, OutageStatus] = {
    OutageKind.PLANNED: OutageStatus.COMPLETED,
    OutageKind.FAULT: OutageStatus.RESTORED,
}
FINISHED = (OutageStatus.COMPLETED, OutageStatus.CANCELLED, OutageStatus.RESTORED)


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
