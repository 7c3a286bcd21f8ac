"""Sections of a definition that stand on their own: the priority matrix, notification templates and
the visibility section (re-exported by `definitions.model`)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from definitions.model_base import I18nText, Model


class PriorityMatrix(Model):
    """impact x urgency -> priority, applied whenever impact or urgency change."""

    impact_field: str = "impact"
    urgency_field: str = "urgency"
    priority_field: str = "priority"
    matrix: dict[str, dict[str, str]] = Field(description="impact -> urgency -> priority.")

    def lookup(self, impact: Any, urgency: Any) -> str | None:
        if impact is None or urgency is None:
            return None
        return self.matrix.get(str(impact), {}).get(str(urgency))


class NotificationTemplate(Model):
    subject: I18nText
    body: I18nText


GroupRef = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", min_length=1, max_length=64)]


class Visibility(Model):
    """Who may see a process's records, when not every agent should (data-access requests, security
    incidents). With this section, a record is seen only by its participants — the requester, the
    assignee, anyone named in a user field, and the approvers of its approvals (asked, deciding, or
    deciding as someone's substitute) — and by holders of `roles` and members of `groups`. The roles
    that otherwise see every record (admin, process_owner, agent, auditor) see it only if listed."""

    roles: list[str] = Field(
        default_factory=list, description="Roles whose holders see every record of this process."
    )
    groups: list[GroupRef] = Field(
        default_factory=list, description="Groups whose members see every record of this process."
    )
