"""Health and metrics: what the bot counts (``metrics``), the 429s it receives (``ratelimits``) and
the HTTP endpoint that serves ``/healthz`` and ``/metrics`` (``health``)."""
