"""The router every app uses: each route answers with and without a trailing slash."""

from rest_framework.routers import SimpleRouter


class OptionalSlashRouter(SimpleRouter):
    """A SimpleRouter whose routes match `/x` and `/x/` alike, for every method (no redirect)."""

    def __init__(self) -> None:
        super().__init__()
        self.trailing_slash = "/?"
