# ShopGuard server: CPU-only image.
#
# Build from the repository root (the build context must be the whole repo):
#   docker build -f infra/docker/server.Dockerfile -t shopguard-server .
# or simply `docker compose build` with the docker-compose.yml at the repo root.
#
# Model weights are never baked into the image (.dockerignore drops weights/*.pt and
# weights/*.onnx); the database, keys and evidence live in the /data volume.

FROM python:3.11-slim

# MALLOC_ARENA_MAX: glibc gives threads that come and go (camera readers reconnecting, live
# encoders) arenas of their own and keeps what they freed: the server grew about 80 MB in an
# hour with 4 cameras, and stayed flat with 2 (docs/benchmarks.md, soak).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_INPUT=1 \
    MALLOC_ARENA_MAX=2

# An unprivileged account to run the server; it owns nothing but /data. The fixed id 10001
# keeps the ownership of the /data volume the same across rebuilds.
RUN groupadd --system --gid 10001 shopguard \
    && useradd --system --uid 10001 --gid shopguard --create-home --home-dir /home/shopguard \
       --shell /usr/sbin/nologin shopguard

WORKDIR /opt/shopguard

# The source is installed as root into the system site-packages, read-only to the server.
# DL3013 (pin versions in pip): this installs the project itself; pyproject.toml pins every
# dependency of the "server" extra with ==.
COPY . .
# hadolint ignore=DL3013
RUN pip install --no-cache-dir ".[server]" \
    && mkdir -p /data \
    && chown shopguard:shopguard /data

ENV SHOPGUARD_DATA_DIR=/data
VOLUME /data

# DL3066 (prefer a numeric user): the name is kept for readability; its uid is 10001.
# hadolint ignore=DL3066
USER shopguard

EXPOSE 8000

# python:3.11-slim has no curl or wget, so the check uses the standard library.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/api/v1/health', timeout=4).status == 200 else 1)"]

CMD ["shopguard", "serve", "--host", "0.0.0.0", "--port", "8000"]
