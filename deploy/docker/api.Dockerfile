# syntax=docker/dockerfile:1
# The itilflow HTTP API and web page (`itilflow api`). Build from the repository root after `make setup`,
# which puts the web page's vendor files (Mermaid, Swagger UI) into api/static/vendor, so the wheel
# carries them and nothing is fetched at run time:
#
#   make setup && docker build -f deploy/docker/api.Dockerfile -t itilflow-api:0.5.0 .
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
# itilflow's wheel and every dependency's, so the runtime stage installs with --no-index.
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim-bookworm
# The PDF service reports set Chinese in Debian's Noto CJK font (sla/pdf.py).
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-noto-cjk \
 && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --create-home --home-dir /var/lib/itilflow itilflow
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index /wheels/*.whl && rm -rf /wheels
USER itilflow
WORKDIR /var/lib/itilflow
ENV ITILFLOW_DATA_DIR=/var/lib/itilflow PYTHONUNBUFFERED=1
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
# DATABASE_URL, TEMPORAL_ADDRESS, ITILFLOW_WEB_SECRET (the same in every replica) come from the environment.
CMD ["itilflow", "api", "--host", "0.0.0.0", "--port", "8000"]
