# Backrun in a container: `docker build -t backrun-bot .`, then see compose.yaml (PostgreSQL and
# two bot processes). Settings come from the environment (see .env.example); nothing secret is baked in.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The bot runs as this user, not root. /data is its working directory: the default SQLite file
# (a single container without PostgreSQL) and an optional mounted .env live there.
RUN useradd --system --uid 10001 --home-dir /data --create-home --shell /usr/sbin/nologin backrun

WORKDIR /app
# Dependencies first (a layer that changes only with the lock file): exactly the locked versions,
# each checked against its hash, and nothing the lock file does not name.
COPY requirements/run.txt requirements/run.txt
RUN pip install --require-hashes --no-deps -r requirements/run.txt

# Then the project, with the setuptools the lock installed above. Editable, so that the package is
# imported from /app, next to migrations/ (the bot runs them at start from there).
COPY pyproject.toml README.md ./
COPY migrations migrations
COPY backrun_bot backrun_bot
RUN pip install --no-deps --no-build-isolation -e . \
    && backrun-bot --help > /dev/null

USER backrun
WORKDIR /data

# `docker stop` sends SIGTERM: the bot lets a reminder being sent finish (up to 10 s), closes the
# gateway cleanly and exits 0. Give the container more than that before SIGKILL (compose.yaml:
# stop_grace_period). Exec form, so the bot is PID 1 and receives the signal itself.
STOPSIGNAL SIGTERM
CMD ["backrun-bot", "run"]
