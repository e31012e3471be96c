from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "cloud.workbench.directory"
    label = "directory"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from .ordering import register

        # every SQLite connection, the test database's and the served one's alike, sorts names naturally
        connection_created.connect(register, dispatch_uid="directory.natural_key")
