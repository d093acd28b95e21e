"""Production settings as deployed, with only what a load generator on loopback needs changed.

The benchmark measures the service as production runs it; the one thing it must switch off is
request throttling (the load generator is one client hammering on purpose), and HTTPS redirects
are left to the environment (`SECURE_SSL_REDIRECT=false`, as behind a TLS-terminating proxy).
"""

from config.settings.production import *  # noqa: F403
from config.settings.production import REST_FRAMEWORK

# wrk is one client sending thousands of requests a second: throttling would measure itself.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_CLASSES": [],
    # A rate of None turns a throttle off, also where a view names its throttle classes itself.
    "DEFAULT_THROTTLE_RATES": dict.fromkeys(REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {})),
}
