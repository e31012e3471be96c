"""``python -m cloud.ingest [options]``: the same as ``aisym ingest``."""

import typer

from cloud.cli import ingest

if __name__ == "__main__":
    typer.run(ingest)
