from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "cloud.workbench.accounts"
    label = "accounts"

    def ready(self) -> None:
        from . import audit

        audit.connect()
