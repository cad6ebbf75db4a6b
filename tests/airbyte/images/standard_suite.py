"""airbyte-cdk's docker-image standard tests for one connector folder (copied next to its metadata.yaml).

Not collected by the project's pytest: tests/airbyte/images/test_images.py copies this file into a
connector folder and runs it with airbyte-cdk's own Python.
"""

from airbyte_cdk.test.standard_tests.docker_base import DockerConnectorTestSuite


class TestAirbyteStandardTests(DockerConnectorTestSuite):
    """Every test of the suite, against the image given by --connector-image."""
