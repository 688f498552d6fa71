# The iscflow image: API, worker and CLI. Installs like ./dev does: the pinned runtime
# dependencies from requirements.lock, then the project itself without resolving anything.
FROM python:3.11.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 iscflow
WORKDIR /app

# Dependencies first, so a code change doesn't reinstall them.
COPY requirements.lock ./
RUN python -m pip install --no-cache-dir -r requirements.lock

COPY pyproject.toml README.md worker.py ./
COPY domain domain
COPY workflows workflows
COPY activities activities
COPY storage storage
COPY api api
COPY iscflow iscflow
COPY notifications notifications
COPY bench bench
COPY web web
RUN python -m pip install --no-cache-dir --no-deps .

USER iscflow
ENV ISCFLOW_DATA_DIR=/home/iscflow/data \
    ISCFLOW_API_HOST=0.0.0.0
EXPOSE 8000
CMD ["iscflow", "api"]
