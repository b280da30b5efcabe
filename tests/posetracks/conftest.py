"""The pose model fixture of the pipeline tests, for the test that runs the real pipeline."""

from tests.pipeline.conftest import model_path

__all__ = ["model_path"]
