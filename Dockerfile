# Health Shield service image (used by compose.yaml). Neo4j runs in its own container.
# The build stage makes the wheel; the run stage installs it with its run-time dependencies and
# nothing else from the checkout (no demo, no synthetic-data generators, no Neo4j launcher).
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY kgservice ./kgservice
COPY ingest ./ingest
COPY settlement ./settlement
COPY ontology ./ontology
COPY shapes ./shapes
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
# OpenCV (under the OCR engine) loads libGL and GLib.
RUN apt-get update && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /wheels /tmp/wheels
RUN pip install --no-cache-dir /tmp/wheels/*.whl && rm -rf /tmp/wheels \
    && useradd --system --uid 10001 --create-home --home-dir /var/lib/health-shield shield
USER shield
# Writable state (training jobs' files) goes to the service's own directory, never into the
# installed package.
ENV HS_DATA_DIR=/var/lib/health-shield
WORKDIR /var/lib/health-shield
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --retries=12 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/v1/health', timeout=4).status != 200)"
CMD ["shield", "serve", "--host", "0.0.0.0", "--port", "8000"]
