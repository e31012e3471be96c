from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "cloud.workbench.directory"
    label = "directory"
