"""What the API and the CLI do with Temporal as its client: connect, launch records, check audit trails.

Below `api`, `cli` and `worker`, above `workflows`: it starts `ProcessWorkflow`s and reads their
histories, and never runs workflow code itself. The worker's `create_linked_record` activity
(activities/links.py) launches records through it too.
"""
