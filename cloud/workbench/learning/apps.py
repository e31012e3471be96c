from django.apps import AppConfig


class LearningConfig(AppConfig):
    name = "cloud.workbench.learning"
    label = "learning"
