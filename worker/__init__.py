"""The Temporal worker's composition root: sandbox, registry of workflows and activities, running one."""
