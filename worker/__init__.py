"""The Temporal worker's composition root: client, sandbox, registry of workflows and activities."""
