"""The API's per-user throttle: DRF's own, letting requests through while Redis is away."""

import logging
from typing import Any

from redis.exceptions import RedisError
from rest_framework.request import Request
from rest_framework.throttling import UserRateThrottle as DRFUserRateThrottle

logger = logging.getLogger(__name__)


class UserRateThrottle(DRFUserRateThrottle):
    """DRF's `UserRateThrottle` (`DEFAULT_THROTTLE_RATES["user"]`), open when Redis fails.

    The throttle guards against a runaway client; it is not worth an outage of the API, whose
    data lives in PostgreSQL, when the cache it counts in cannot be reached (the client's
    timeouts in settings keep that short). The database cache is not caught: when the
    database is away the request fails anyway, and answers 503 (config/api/exceptions.py).
    """

    def allow_request(self, request: Request, view: Any) -> bool:
        try:
            return super().allow_request(request, view)
        except RedisError as error:
            logger.warning("throttle: Redis unreachable, request let through: %s", error)
            return True
