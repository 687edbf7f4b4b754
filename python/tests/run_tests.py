#!/usr/bin/env python3
"""Runs the pytest suite of lazuli's Python package (CTest's `python_tests`).

Extra arguments go to pytest. "No tests collected" (pytest's exit code 5) counts as success, so
a tree without Python tests still passes."""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))

if __name__ == "__main__":
    args = ["-q", "-p", "no:cacheprovider", "--rootdir", HERE, HERE] + sys.argv[1:]
    rc = pytest.main(args)
    sys.exit(0 if rc == 5 else int(rc))
