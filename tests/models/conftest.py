"""The pose model fixture of the pipeline tests, for the model tests that run the pipeline."""

from tests.pipeline.conftest import model_path

__all__ = ["model_path"]
