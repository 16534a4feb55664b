# The archive image: the API (`archive serve`), the OCR workers, the index writer and beat (docker-compose.yml).
# Debian 12 with Debian's Python 3.11, like the development machines, and installed by the README's own set-up
# script (scripts/setup.sh: the system packages through apt, then .venv with the pinned packages of
# pyproject.toml), so the image and the machines never drift apart. No secret is baked in: every credential
# is a docker secret mounted at run time under /run/secrets (see docker-compose.yml), and .dockerignore keeps
# ./secrets, keys and local state out of the build context.
FROM debian:bookworm-slim

ENV DEBIAN_FRONTEND=noninteractive \
    LANG=C.UTF-8 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

WORKDIR /app
COPY . /app

# Security updates first, then the same set-up as on a development machine (it runs apt-get itself).
RUN apt-get update -q \
    && apt-get upgrade -y -q \
    && bash scripts/setup.sh \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/* /root/.cache

# A fixed non-root uid: docker secret files are mounted with their host owner, so they are chown'ed to 10001.
# /data is ARCHIVE_HOME (a named volume: catalog cache, index, metrics, logs, work files); /batches the intake.
RUN groupadd --system --gid 10001 archive \
    && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home --shell /usr/sbin/nologin archive \
    && install -d -m 0700 -o archive -g archive /data /batches

ENV ARCHIVE_HOME=/data \
    PATH=/app/.venv/bin:$PATH \
    OMP_THREAD_LIMIT=1

USER 10001:10001
VOLUME ["/data"]
EXPOSE 8000

# The API's liveness; docker-compose.yml gives every service its own check (workers: a broker ping).
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["/app/.venv/bin/python", "/app/deploy/healthcheck.py", "http", "http://127.0.0.1:8000/healthz"]

ENTRYPOINT ["archive"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
