# GridBot: `gridbot run` with TELEGRAM_BOT_TOKEN (long polling). SQLite lives on the /app/var volume by default;
# set DATABASE_URL=postgresql://… for PostgreSQL. Installed in place (-e) so data/ (catalogue, county, calendar)
# sits beside the code, as in a clone. Without a token the image refuses to start (GRIDBOT_SANDBOX=0): the local
# sandbox (a Bot API double and its chat page) runs only when asked for, e.g.
#   docker run -e GRIDBOT_SANDBOX=1 -e GRIDBOT_WEB_HOST=0.0.0.0 -p 8080:8080 gridbot
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    GRIDBOT_SANDBOX=0 DATABASE_URL=sqlite:////app/var/gridbot.db
WORKDIR /app
# the charts' Chinese text (bot/reports/fonts.py): without a CJK font the reports go out as text only
RUN apt-get update && apt-get install -y --no-install-recommends fonts-wqy-microhei && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md alembic.ini ./
COPY bot bot
COPY handlers handlers
COPY nlp nlp
COPY storage storage
COPY data data
RUN pip install -e . && useradd --create-home gridbot && mkdir -p /app/var && chown gridbot /app/var
USER gridbot
VOLUME ["/app/var"]
CMD ["gridbot", "run"]
