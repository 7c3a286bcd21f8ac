"""Scheduled records (issue 20): a process owner's schedule starts records of a definition on a
business-calendar rhythm, fired by a Temporal Schedule (docs/schedules.md)."""
