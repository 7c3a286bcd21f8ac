# syntax=docker/dockerfile:1
# An itilflow worker (`itilflow worker`): runs the records' workflows and their activities (read-model
# writes, notifications). Run several: they share the task queue. Build from the repository root after
# `make setup` (the same wheel as the API's image):
#
#   make setup && docker build -f deploy/docker/worker.Dockerfile -t itilflow-worker:0.5.0 .
#
# Not built on the machine this was written on (no Docker there): see docs/production.md, section 6.

FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY definitions definitions
COPY workflows workflows
COPY client client
COPY activities activities
COPY worker worker
COPY api api
COPY core core
COPY cli cli
COPY reports reports
COPY devenv devenv
COPY cmdb cmdb
COPY schedule schedule
COPY sla sla
COPY recurring recurring
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim-bookworm
RUN useradd --system --uid 10001 --create-home --home-dir /var/lib/itilflow itilflow
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index /wheels/*.whl && rm -rf /wheels
USER itilflow
WORKDIR /var/lib/itilflow
ENV ITILFLOW_DATA_DIR=/var/lib/itilflow PYTHONUNBUFFERED=1
# A worker serves no port and keeps nothing it cannot lose: when it stops (or is killed), the records
# it held in memory are replayed by another worker (docs/production.md, section 5).
# DATABASE_URL, TEMPORAL_ADDRESS and the worker_* capacity settings come from the environment.
CMD ["itilflow", "worker"]
