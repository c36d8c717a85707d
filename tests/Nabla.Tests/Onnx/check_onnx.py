#!/usr/bin/env python3
"""Runs onnx.checker (full check, with shape inference) on each .onnx file given; prints one line per file.

Exit status 0 when every file passes, 1 otherwise. Used by tests/Nabla.Tests/Onnx/OnnxCheckerTests.cs with
Debian's python3-onnx (1.12, which knows opsets up to 17).
"""
import sys

import onnx

failed = 0
for path in sys.argv[1:]:
    try:
        model = onnx.load(path)
        onnx.checker.check_model(model, full_check=True)
        print(f"ok {path} (opset {model.opset_import[0].version}, {len(model.graph.node)} nodes)")
    except Exception as e:  # noqa: BLE001 - report every failure, keep checking the rest
        failed += 1
        print(f"FAIL {path}: {type(e).__name__}: {e}")
sys.exit(1 if failed else 0)
