# The iscflow image: API, worker and CLI. Installs the project the way ./dev does.
FROM python:3.11-slim
RUN useradd --create-home --uid 10001 iscflow
WORKDIR /app
COPY pyproject.toml README.md worker.py ./
COPY domain domain
COPY workflows workflows
COPY activities activities
COPY storage storage
COPY api api
COPY iscflow iscflow
RUN python -m pip install --no-cache-dir .
USER iscflow
ENV ISCFLOW_DATA_DIR=/home/iscflow/data ISCFLOW_API_HOST=0.0.0.0
EXPOSE 8000
CMD ["iscflow", "api"]
