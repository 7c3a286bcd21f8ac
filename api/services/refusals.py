"""A workflow's answer "no" as a problem detail.

The engine refuses with a `Refusal` kind (`WrongState`, `NotAllowed`, `InvalidFields`…) and a message
that names the rule; over Temporal it arrives as the `ApplicationError` of a failed Update. Both
become the HTTP status the kind maps to, with the rule's words and, per field, what is wrong.
"""

from __future__ import annotations

from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from api.problems import REFUSAL_STATUS, ProblemError, conflict
from api.services.lookup import RecordKey
from api.services.metrics import count_refusal
from core.tables import RecordRow


def refusal_problem(kind: str, message: str, errors: list[dict[str, str]] | None = None) -> ProblemError:
    """A refusal of kind `kind` with its status (409 for a kind the map does not know yet)."""
    count_refusal(kind)
    return ProblemError(REFUSAL_STATUS.get(kind, 409), message, errors=errors, kind=kind)


def update_problem(exc: WorkflowUpdateFailedError) -> ProblemError:
    """The problem a failed Update stands for: a refusal with its field errors, else a 500."""
    cause = exc.cause
    if isinstance(cause, ApplicationError):
        errors: list[dict[str, str]] = []
        details = cause.details[0] if cause.details else None
        if isinstance(details, dict) and isinstance(details.get("errors"), list):
            errors = [
                {"path": str(e.get("path", "")), "message": str(e.get("message", ""))}
                for e in details["errors"]
            ]
        return refusal_problem(cause.type or "Conflict", cause.message, errors)
    return ProblemError(500, f"the workflow failed the request: {cause}")


def closed(row: RecordKey | RecordRow) -> ProblemError:
    """A closed record takes no more actions (its workflow may be gone already)."""
    count_refusal("RecordClosed")
    return conflict(
        f"record {row.number} is closed ({row.state}); it takes no more actions",
        "RecordClosed",
        zh=f"记录 {row.number} 已关闭（{row.state}），不再接受操作",
    )
