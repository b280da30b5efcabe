"""Writing a fitted temporal network as the server loads it: `behaviour-tcn.onnx` (torch's
dynamo exporter, which needs `onnxscript`; dynamic batch) and `behaviour-tcn.json` (the
format, spec, channels, the ONNX file's sha256 and how it was trained), each with its
sha256 file. Files are written under a `.partial` name and renamed into place.

Example:
    >>> onnx_path = export_sequence(fitted, Path("weights"), {"data": ...})
    >>> SequenceModel.load(onnx_path)
"""

from __future__ import annotations

import copy
import json
import logging
import warnings
from pathlib import Path
from typing import Any

import torch

from server.behaviour.sequence import (
    CHANNELS,
    INPUT_NAME,
    OUTPUT_NAME,
    SEQUENCE_MODEL_NAME,
    metadata_document,
    metadata_path,
)
from server.weights import record_sha
from training.temporal.fit import SequenceFit

OPSET = 18


def export_sequence(
    fitted: SequenceFit, out_dir: Path, info: dict[str, Any], name: str = SEQUENCE_MODEL_NAME
) -> Path:
    """Write the ONNX model `out_dir/name`, its metadata and both sha256 files; return the
    model's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    model = out_dir / name
    partial = model.with_name(model.name + ".partial")
    net = copy.deepcopy(fitted.net).eval()
    example = torch.zeros(2, len(CHANNELS), fitted.spec.steps)
    registry = logging.getLogger("torch.onnx._internal.exporter._registration")
    level = registry.level
    registry.setLevel(logging.ERROR)  # "torchvision is not installed": we need none of it
    try:
        with warnings.catch_warnings():  # torch's exporter warns about its own internals
            warnings.simplefilter("ignore")
            program = torch.onnx.export(
                net,
                (example,),
                dynamo=True,
                input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME],
                dynamic_shapes=({0: torch.export.Dim("batch")},),
                opset_version=OPSET,
                external_data=False,
                verbose=False,
            )
            if program is None:
                raise RuntimeError("torch.onnx.export returned no program")
            program.save(str(partial), external_data=False)
    finally:
        registry.setLevel(level)
    partial.replace(model)
    digest = record_sha(model)
    meta = metadata_path(model)
    document = metadata_document(fitted.spec, digest, {**fitted.info(), **info})
    partial_meta = meta.with_name(meta.name + ".partial")
    partial_meta.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    partial_meta.replace(meta)
    record_sha(meta)
    return model
