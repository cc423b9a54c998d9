# Health Shield service image (used by compose.yaml). Neo4j runs in its own container.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY kgservice ./kgservice
COPY ingest ./ingest
COPY settlement ./settlement
COPY ontology ./ontology
COPY shapes ./shapes
# OpenCV (under the OCR engine) loads libGL and GLib.
RUN apt-get update && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir . && useradd --system --uid 10001 shield
USER shield
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --retries=12 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/v1/health', timeout=4).status != 200)"
CMD ["shield", "serve", "--host", "0.0.0.0", "--port", "8000"]
