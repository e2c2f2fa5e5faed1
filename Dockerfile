FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install . \
    && useradd --create-home --uid 10001 interlink

USER interlink
ENV INTERLINK_DATA_DIR=/home/interlink/var
EXPOSE 8000
CMD ["interlink", "serve", "--host", "0.0.0.0", "--port", "8000"]
