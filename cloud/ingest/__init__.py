"""MQTT -> InfluxDB ingest that loses nothing: see :class:`Ingestor` and docs/cloud.md."""

from .config import IngestConfig, secret
from .ingestor import Counters, Ingestor
from .processor import Outcome, Processor
from .seqtrack import Gap, SeqTracker
from .store import DeadLetter, Store
from .writer import Backoff, Writer

__all__ = [
    "Backoff",
    "Counters",
    "DeadLetter",
    "Gap",
    "IngestConfig",
    "Ingestor",
    "Outcome",
    "Processor",
    "SeqTracker",
    "Store",
    "Writer",
    "secret",
]
