"""``python -m cloud.workbench <command>``: Django's manage.py for the workbench (makemigrations, shell...)."""

import os
import sys

from django.core.management import execute_from_command_line

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloud.workbench.settings")
    execute_from_command_line(sys.argv)
