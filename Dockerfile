# exhorto node image: the API (REST, federation inbox, web UI), the CLI, and the Prefect flows.
# Built for operators (docker build -t exhorto .); compose.yaml wires PostgreSQL, Prefect server, flows and API.
FROM python:3.11-slim-bookworm

# WeasyPrint's native libraries (libharfbuzz-subset0: fast, byte-identical font subsetting), fonts for PDF/A,
# and the PostgreSQL client tools used by `exhorto backup` / `exhorto restore`.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core postgresql-client \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 exhorto
WORKDIR /app
COPY pyproject.toml README.md requirements.lock ./
# The committed lock, as `make setup` installs it: the image holds exactly the tested versions.
RUN pip install --no-cache-dir --no-deps -r requirements.lock
COPY engine ./engine
COPY workflows ./workflows
COPY forms ./forms
COPY locales ./locales
RUN pip install --no-cache-dir --no-deps --no-build-isolation . && pip check

USER exhorto
ENV PYTHONUNBUFFERED=1 \
    PREFECT_HOME=/home/exhorto/.prefect \
    PREFECT_SERVER_ANALYTICS_ENABLED=false \
    DO_NOT_TRACK=1
EXPOSE 8000
# Secrets (EXHORTO_KEY_PASSPHRASE, EXHORTO_SECRET_KEY, EXHORTO_SMTP_PASSWORD, database password) come from the
# environment or mounted files at run time; none is baked into the image.
CMD ["sh", "-c", "exhorto db upgrade && exec uvicorn engine.ops.asgi:create --factory --host 0.0.0.0 --port 8000 --workers ${EXHORTO_WORKERS:-4} --no-server-header --proxy-headers"]
