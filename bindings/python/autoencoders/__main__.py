"""Command-line entry points of the Python package: ``python -m autoencoders <command>``.

Commands:
    export-onnx MODEL.aem OUT.onnx [--batch-norm op|fold] [--segmentation labels|logits]
                [--lengths] [--key K]
        writes the model's inference path as an ONNX graph (needs the ``onnx`` package; see
        ``autoencoders.onnx_export``).
"""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional


def _export_onnx(arguments: argparse.Namespace) -> int:
    from .model import Autoencoder
    from .onnx_export import export_onnx
    key = arguments.key.encode() if arguments.key is not None else None
    model = Autoencoder.load(arguments.model, key=key, verbose=0)
    try:
        proto = export_onnx(model, arguments.output, batch_norm=arguments.batch_norm,
                            segmentation=arguments.segmentation, lengths=arguments.lengths)
    finally:
        model.close()
    outputs = ", ".join(output.name for output in proto.graph.output)
    print(f"wrote {arguments.output}: opset {proto.opset_import[0].version}, input "
          f"{proto.graph.input[0].name}, outputs {outputs}")
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autoencoders",
                                     description="Tools of the autoencoders Python package.")
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser("export-onnx", help="export a model file to ONNX",
                                 description="Writes a model's inference path (input scaling "
                                 "included) as an ONNX graph: outputs the reconstruction (or "
                                 "segmentation labels/logits) and the code.")
    export.add_argument("model", help="the model file (.aem)")
    export.add_argument("output", help="the ONNX file to write")
    export.add_argument("--batch-norm", choices=("op", "fold"), default="op",
                        help="keep BatchNormalization nodes (op) or fold them into the "
                        "preceding conv/dense layer (fold)")
    export.add_argument("--segmentation", choices=("labels", "logits"), default="labels",
                        help="a segmentation model's first output")
    export.add_argument("--lengths", action="store_true",
                        help="a sequence model's graph takes the int32 lengths [N] as a second "
                        "input")
    export.add_argument("--key", help="the key of a signed model file")
    arguments = parser.parse_args(argv)
    from ._errors import AutoencoderError
    try:
        if arguments.command == "export-onnx":
            return _export_onnx(arguments)
    except (AutoencoderError, ImportError, OSError, ValueError) as error:
        print(f"python -m autoencoders {arguments.command}: {error}", file=sys.stderr)
        return 1
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
