FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml README.md LICENSE ./
COPY game_rules ./game_rules
COPY server ./server
COPY migrations ./migrations
COPY clients ./clients
RUN pip install --no-cache-dir . && useradd --create-home --uid 10001 wargame && mkdir /data && chown wargame /data

USER wargame
ENV DATABASE_URL=sqlite+aiosqlite:////data/wargame.db
EXPOSE 8000
ENV HOST=0.0.0.0
CMD ["wargame", "serve"]
