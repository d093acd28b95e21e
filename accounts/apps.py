from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Users and API tokens: the credentials cache, token authentication, the sensor-account
    rule, and the account commands (`create_api_user`, `ensure_admin`)."""

    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from . import receivers  # the models are ready only now

        receivers.connect()
