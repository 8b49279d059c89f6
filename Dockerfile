# peaka-exports-bot: `docker build -t exports-bot .` then
# `docker run --env-file .env -p 3000:3000 -v exports-bot-data:/app/data exports-bot`.
# tests/test_dockerfile.py follows the builder stage's COPY and RUN steps in a fresh virtual
# environment and starts the entrypoint, so keep each RUN a single plain command.

FROM python:3.11-slim AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
# The one install step: builds the project's wheel and installs it with its dependencies.
RUN pip install --no-cache-dir /src

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PORT=3000
RUN useradd --create-home --no-log-init --uid 10001 --user-group bot \
    && mkdir -p /app/data \
    && chown bot:bot /app/data
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
USER 10001:10001
# With DATABASE_URL unset the bot keeps its SQLite file in ./data, here; mount a volume.
VOLUME /app/data
EXPOSE 3000
# slim has no curl: ask /healthz with the standard library.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; url = 'http://127.0.0.1:%s/healthz' % (os.environ.get('PORT') or '3000'); sys.exit(0 if urllib.request.urlopen(url, timeout=4).status == 200 else 1)"]
ENTRYPOINT ["exports-bot"]
CMD ["run"]
