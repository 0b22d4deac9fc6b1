# One image for web, worker and beat (the command differs; see docker-compose.yml and Procfile).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends build-essential && rm -rf /var/lib/apt/lists/*
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN useradd --create-home app && mkdir -p /app/var && chown -R app /app/var
USER app
EXPOSE 8050
CMD ["gunicorn", "--workers", "4", "--threads", "4", "--bind", "0.0.0.0:8050", "--timeout", "60", "wsgi:server"]
