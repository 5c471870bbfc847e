# faqbot – the Telegram FAQ bot of the City of Konstanz (Amt für Digitalisierung).
#
#   docker build -t faqbot .
#   docker run -d --name faqbot --restart unless-stopped \
#     -e TELEGRAM_BOT_TOKEN -e FAQBOT_ADMIN_IDS=123456789 \
#     -v faqbot-knowledge:/app/knowledge -v faqbot-data:/app/data faqbot
#
# The token comes only from the environment; nothing secret is baked into the image.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim

LABEL org.opencontainers.image.title="faqbot" \
      org.opencontainers.image.description="Telegram FAQ bot: Amt für Digitalisierung, Stadt Konstanz" \
      org.opencontainers.image.licenses="MIT"

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    FAQBOT_KNOWLEDGE_DIR=/app/knowledge \
    FAQBOT_DATA_DIR=/app/data \
    FAQBOT_WEBHOOK_LISTEN=0.0.0.0

RUN groupadd --system --gid 10001 faqbot \
    && useradd --system --uid 10001 --gid faqbot --home-dir /app --no-create-home --shell /usr/sbin/nologin faqbot

COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels

WORKDIR /app
COPY --chown=faqbot:faqbot knowledge ./knowledge
RUN mkdir -p /app/data && chown faqbot:faqbot /app/data

# knowledge: the editors' YAML files (edit, then /reload in Telegram); data: SQLite database and heartbeat
VOLUME ["/app/knowledge", "/app/data"]

USER 10001:10001

# only used in webhook mode (FAQBOT_WEBHOOK_URL set); long polling needs no open port
EXPOSE 8443

# healthy while the bot writes its heartbeat (every minute while it receives updates)
HEALTHCHECK --interval=60s --timeout=10s --start-period=60s --retries=3 CMD ["python", "-m", "bot.tg.health"]

CMD ["faqbot", "run"]
