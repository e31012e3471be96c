from django.apps import AppConfig


class SimulationsConfig(AppConfig):
    name = "cloud.workbench.simulations"
    label = "simulations"
