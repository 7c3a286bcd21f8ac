"""Service level agreements (issue 21): agreements with versions, their selection for a record,
outages on services and availability in an agreement's service hours."""
