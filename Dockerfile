# GridBot: the same thing `make run` starts. SQLite lives on the /app/var volume by default;
# Installed in place (-e) so data/ (catalogue, county, calendar) sits beside the code, as in a clone.
# set DATABASE_URL=postgresql://… for PostgreSQL, TELEGRAM_BOT_TOKEN for the real bot.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    GRIDBOT_WEB_HOST=0.0.0.0 DATABASE_URL=sqlite:////app/var/gridbot.db
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY bot bot
COPY handlers handlers
COPY nlp nlp
COPY storage storage
COPY data data
RUN pip install -e . && useradd --create-home gridbot && mkdir -p /app/var && chown gridbot /app/var
USER gridbot
VOLUME ["/app/var"]
EXPOSE 8080
CMD ["gridbot", "run"]
