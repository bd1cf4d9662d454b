# supportbot: one process serving everything (`supportbot run`), or one role of it (`--role web/dispatcher/channels`).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY requirements/run.lock ./requirements/run.lock
# Exact versions with hashes (see README, "Dependencies"), then supportbot itself without resolving again.
RUN pip install --require-hashes -r requirements/run.lock
COPY core ./core
COPY bots ./bots
RUN pip install --no-deps . \
    && useradd --system --uid 10001 --no-create-home --home-dir /app supportbot \
    && mkdir -p /app/data && chown supportbot /app/data

# Downloaded attachments and channel state files; docker-compose keeps it on a volume.
VOLUME ["/app/data"]

# The example configuration; docker-compose mounts the deployment's own channels.yaml over it.
COPY channels.yaml ./channels.yaml

USER supportbot
EXPOSE 8080
CMD ["supportbot", "run", "--host", "0.0.0.0"]
