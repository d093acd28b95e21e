"""HEAD's WSGI application with monitoring's judging switched off: the receiver of
`readings_stored` is disconnected, so an ingest stores its readings and judges nothing.

Only for `python -m bench.alarms ingest`, which measures what judging costs the readings posts
against this and against the commit before monitoring existed. Never deployed.
"""

from config.wsgi import application
from measurements.signals import readings_stored

if not readings_stored.disconnect(dispatch_uid="monitoring.judge_new_readings"):
    raise RuntimeError("monitoring's judge_new_readings receiver was not connected")

__all__ = ["application"]
