# One image for every trackmock emulator; docker-compose.yml runs one service per vendor.
#
# The base image is pinned to one Python release on one Debian release, so a rebuild gets the
# same interpreter. To pin it byte for byte, append the digest that
# `docker buildx imagetools inspect python:3.11.13-slim-bookworm` prints (FROM ...@sha256:...).
FROM python:3.11.13-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TRACKMOCK_READY_FILE=/srv/trackmock/ready.json \
    TRACKMOCK_CACHE_DIR=/usr/local/share/trackmock/cache

WORKDIR /src
COPY pyproject.toml README.md ./
COPY mocks ./mocks
COPY clients ./clients
COPY contracts ./contracts
COPY fixtures ./fixtures
# The packaged contracts parsed once here, into the cache every start reads (the emulator user
# only reads it; contracts given with --contracts are parsed at start).
RUN pip install --no-cache-dir . && rm -rf /src \
    && python -c "from trackmock.core.contracts import Contract; \
from trackmock.core.paths import contracts_dir; \
[Contract.from_path(p) for p in sorted(contracts_dir().glob('*/*.yaml'))]"

# The emulators run as this user, never as root. /srv/trackmock holds the ready file and the
# test CA; Compose mounts a host folder there (writable for this uid, or run as your own uid).
RUN groupadd --system --gid 10001 trackmock \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin trackmock \
    && mkdir -p /srv/trackmock \
    && chown trackmock:trackmock /srv/trackmock
COPY docker/entrypoint.sh docker/healthcheck.py /usr/local/lib/trackmock/
WORKDIR /srv
USER 10001:10001
EXPOSE 8081 8082 8083

# Healthy once every emulator the ready file lists answers /__admin/health (no token needed).
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=10 \
    CMD ["python", "/usr/local/lib/trackmock/healthcheck.py"]
# `trackmock serve` on every interface inside the container (publish only the ports you need),
# writing the ready file named by TRACKMOCK_READY_FILE.
ENTRYPOINT ["sh", "/usr/local/lib/trackmock/entrypoint.sh"]
CMD ["--vendor", "all"]
