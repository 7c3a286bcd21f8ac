"""What the routes and the web pages do: keyword-only functions over a session, an engine or a
Temporal client, one module per idea. The HTTP API (`api/routes`), the web pages (`api/web`), the
CLI and `itilflow dev` call the same functions, so a rule lives in one place.

- `lookup`: which record a reference names, and whether the caller may see it.
- `records`: one record (live from its workflow, else the read model) and its audit trail.
- `search`: the record list: filters and keyset pagination over the read model.
- `refusals`: a workflow's refusal or a failed Update as a problem detail.
- `updates`: how an action reaches a record's workflow: a Temporal Update.
- `actions`: what changes a record: create it, fire a transition, change fields, comment.
- `approvals`: the caller's approval inbox and decisions.
- `definitions`: the definition lifecycle (draft, publish, retire) and its reads.
- `admin`: the directory: users, groups, memberships, API tokens.

Writes go to the record's workflow as Temporal Updates, so a refusal comes back synchronously with the
rule that refused it, and a success returns only after the workflow wrote the read model (so the next
GET sees it). Reads of many records come from the SQL read model; one running record's
`available_transitions` come from the workflow itself, computed for the caller.
"""
