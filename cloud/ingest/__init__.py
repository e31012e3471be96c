"""MQTT -> InfluxDB ingest that loses nothing: see :class:`Ingestor` and docs/cloud.md."""

from .config import IngestConfig, secret
from .ingestor import Counters, Ingestor
from .ownership import Ownership, load_ownership
from .processor import Outcome, Processor
from .seqtrack import Fingerprints, Gap, SeqTracker
from .store import DeadLetter, Store
from .writer import Backoff, Writer

__all__ = [
    "Backoff",
    "Counters",
    "DeadLetter",
    "Fingerprints",
    "Gap",
    "IngestConfig",
    "Ingestor",
    "Outcome",
    "Ownership",
    "Processor",
    "SeqTracker",
    "Store",
    "Writer",
    "load_ownership",
    "secret",
]
