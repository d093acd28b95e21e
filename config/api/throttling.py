"""Per-user API throttling, with the rate read from settings on every request."""

import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.throttling import UserRateThrottle as DRFUserRateThrottle


class UserRateThrottle(DRFUserRateThrottle):
    """`API_THROTTLE_RATE` requests per user per window (`"2000/second"`, `None` for off).

    A fixed window counted with one cache increment: DRF's sliding window stores a list of
    every request time in the cache and re-pickles it on each request, which costs more than
    the request itself at benchmark rates.
    """

    scope = "user"

    def get_rate(self) -> str | None:
        rate: str | None = getattr(settings, "API_THROTTLE_RATE", None)
        return rate

    def allow_request(self, request: Request, view: Any) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        limit, duration = self.parse_rate(self.rate)
        if not limit or not duration:
            return True
        self.now = time.time()
        window = int(self.now // duration)
        key = f"{self.key}:{limit}/{duration}:{window}"
        # `add` is atomic where the cache is; a lost race only means one more request counted.
        cache.add(key, 0, timeout=duration + 1)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=duration + 1)
            count = 1
        self._window_end = (window + 1) * duration
        return count <= limit

    def wait(self) -> float:
        return max(self._window_end - time.time(), 0.0)
