"""The change schedule: freeze windows (封网) and maintenance windows, and whether a change's planned
window respects them (docs/schedule.md)."""
