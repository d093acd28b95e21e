"""gunicorn's configuration (`gunicorn -c config/gunicorn.py config.wsgi:application`).

Every knob is an environment variable with a default that suits a small lab server; they are
listed in `.env.example` and docs/OPERATIONS.md.
"""

import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


# gunicorn's own advice is 2-4 workers per core; the cap keeps memory bounded on big hosts.
_default_workers = min(2 * (os.cpu_count() or 1) + 1, 8)

bind = f"{os.environ.get('BIND_ADDRESS', '0.0.0.0')}:{_int('PORT', 8000)}"
workers = _int("WEB_CONCURRENCY", _default_workers)
# Threads let a worker overlap database waits; with more than one, gunicorn uses gthread.
threads = _int("GUNICORN_THREADS", 4)
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Recycling workers now and then bounds any slow leak; the jitter avoids all restarting at once.
max_requests = _int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = max(max_requests // 10, 0)
# The heartbeat file on tmpfs: a container's overlay filesystem can stall workers.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
_formatter = "json" if os.environ.get("LOG_FORMAT", "json") == "json" else "plain"
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "config.logformat.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": _formatter,
        },
    },
    "root": {"level": "INFO", "handlers": ["stdout"]},
    "loggers": {
        "gunicorn.error": {"handlers": ["stdout"], "level": loglevel.upper(), "propagate": False},
        "gunicorn.access": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
    },
}
