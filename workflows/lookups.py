"""What ProcessWorkflow asks the read model itself, through local activities: whether a claimed
delegation is in force, and which records checked reference fields name.

Why the workflow asks rather than trusting the caller: anyone with a Temporal client can send an Update
with any `on_behalf_of` or any field value, but only the worker reads the database (with its own
credentials). Each answer is recorded in the history (a local-activity marker), so a replay decides the
same way; each is asked only by actions that need it (a claimed delegation, a checked reference field),
so histories recorded before either existed replay unchanged, with no patch."""

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from definitions.model import Definition
    from workflows.calls import DB_RETRY, DB_TIMEOUT
    from workflows.contracts import (
        CheckDelegationInput,
        CheckDelegationResult,
        ResolveReferencesResult,
    )
    from workflows.engine import references


async def delegation_in_force(principal: str, substitute: str, at: datetime) -> int | None:
    """The delegation from `principal` to `substitute` in force at `at`, as the directory says: a
    claimed delegation that does not exist, has ended or was revoked finds nothing, and the engine
    refuses the decision."""
    result: CheckDelegationResult = await workflow.execute_local_activity(
        "check_delegation",
        CheckDelegationInput(principal=principal, substitute=substitute, at=at),
        result_type=CheckDelegationResult,
        start_to_close_timeout=DB_TIMEOUT,
        retry_policy=DB_RETRY,
    )
    return result.delegation


async def referenced_records(definition: Definition, wanted: dict[str, str]) -> ResolveReferencesResult:
    """The records the checked reference values name (and their processes' words), for the engine's
    `check_references`."""
    result: ResolveReferencesResult = await workflow.execute_local_activity(
        "resolve_references",
        references.lookup(definition, wanted),
        result_type=ResolveReferencesResult,
        start_to_close_timeout=DB_TIMEOUT,
        retry_policy=DB_RETRY,
    )
    return result
