"""Refusal kinds belong to the engine; what HTTP status each becomes belongs to the API."""

from __future__ import annotations

import workflows.engine
from api.problems import REFUSAL_STATUS
from workflows.engine import RefusalKind


def test_every_refusal_kind_has_a_status() -> None:
    assert set(REFUSAL_STATUS) == set(RefusalKind)
    assert {
        kind: REFUSAL_STATUS[kind]
        for kind in ("NotAllowed", "UnknownApproval", "GuardFailed", "MissingFields")
    } == {
        "NotAllowed": 403,
        "UnknownApproval": 404,
        "GuardFailed": 409,
        "MissingFields": 422,
    }


def test_the_kinds_are_the_application_error_type_names() -> None:
    assert [k.value for k in RefusalKind] == [k.name for k in RefusalKind]
    assert not hasattr(workflows.engine, "REFUSAL_STATUS")
