"""What the measurements app announces to the apps that build on it (it imports none of them)."""

from django.dispatch import Signal

# Sent by the ingest services (`reading_store`, `readings_ingest`) inside the ingest's
# transaction, once new readings of a room are stored, with `room_id` and, when the sender has
# them at hand (one reading, or a batch that stored all of its readings), `readings`: the
# (timestamp, °C) pairs it stored; None when it does not know which were. A listener that
# judges readings does so before the ingest commits, so a reading and its judgement stand or
# fall together.
readings_stored = Signal()
