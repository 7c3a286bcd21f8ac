"""Key indicators (关键指标) of the processes, computed from the read model and the audit trail."""
