#!/usr/bin/env python3
"""Docker's HEALTHCHECK: exit 0 when the local gunicorn answers GET /healthz with 200.

Django refuses a Host header outside ALLOWED_HOSTS (400), so the probe presents the first
allowed host; /healthz is exempt from the HTTPS redirect. Standard library only.
"""

import os
import sys
import urllib.error
import urllib.request


def probe_host() -> str:
    hosts = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
    host = hosts[0] if hosts else "localhost"
    # `*` allows anything; `.example.org` allows example.org and its subdomains.
    return "localhost" if host == "*" else host.lstrip(".")


def main() -> int:
    port = os.environ.get("PORT", "8000").strip() or "8000"
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/healthz", headers={"Host": probe_host()}
    )
    try:
        with urllib.request.urlopen(request, timeout=4) as response:
            ok = response.status == 200
    except (urllib.error.URLError, OSError) as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
