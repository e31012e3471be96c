"""The security tests reuse the cloud tests' in-process ingestor fixture."""

from tests.cloud.conftest import make_ingestor  # noqa: F401  (a fixture, used by name)
