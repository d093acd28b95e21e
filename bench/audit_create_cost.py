"""What versions cost the calibration create: the same POST /api/calibrations, in one process,
with `calibration_create` as it was before versions (one INSERT, no transaction) and as it is
(BEGIN, the calibration's INSERT, version 1's INSERT, COMMIT), interleaved in rounds so the
machine's load affects both alike. A quick in-process measure (Django's test client: the whole
middleware, auth and DRF stack, no HTTP parsing); the HTTP figure is bench/run.py's create
scenario.

    DATABASE_URL=postgres://… python -m bench.audit_create_cost [--requests 2000] [--rounds 3]
"""

import argparse
import os
import statistics
import time
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.utils import timezone
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    import tagging.services
    from calibrations.api.views import CalibrationViewSet
    from calibrations.models import Calibration
    from calibrations.services import calibration_create

    def before_versions(**kw: Any) -> Calibration:
        kw.pop("calibration_id", None)
        kw["timestamp"] = kw.get("timestamp") or timezone.now()
        return Calibration.objects.create(**kw)

    CalibrationViewSet.throttle_classes = []  # measuring the route, not the throttle
    user, _ = User.objects.get_or_create(username="bench-create", defaults={"is_superuser": True})
    token, _ = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    body = {"calibration_type": "gain", "value": 1.5, "username": "bench"}

    def run(create: Any) -> float:
        tagging.services.calibration_create = create  # type: ignore[attr-defined]
        start = time.perf_counter()
        for _ in range(args.requests):
            response = client.post("/api/calibrations", body, format="json")
            assert response.status_code == 201, response.content
        return args.requests / (time.perf_counter() - start)

    run(calibration_create)  # warm up
    rates: dict[str, list[float]] = {"before": [], "after": []}
    for _ in range(args.rounds):
        rates["before"].append(run(before_versions))
        rates["after"].append(run(calibration_create))
    before, after = statistics.median(rates["before"]), statistics.median(rates["after"])
    print(f"before versions: {before:,.0f} req/s (rounds: {[round(r) for r in rates['before']]})")
    print(f"with versions:   {after:,.0f} req/s (rounds: {[round(r) for r in rates['after']]})")
    print(f"cost: {100 * (1 - after / before):.1f} % of the create's req/s (budget: 10 %)")


if __name__ == "__main__":
    main()
