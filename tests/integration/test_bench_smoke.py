"""The benchmark scripts still run (one tiny round each); their figures live in bench/README.md."""

import sys

from tests.conftest import ROOT


def test_task_completion_benchmark_runs():
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import bench_complete_task as bench
    finally:
        sys.path.pop(0)
    raw, raw_sizes = bench.bench_raw(1)
    lean, lean_sizes = bench.bench_lean(1)
    plain, signed, statements = bench.bench_service(1)
    assert len(raw) == len(lean) == len(plain) + len(signed) == 7
    assert max(lean_sizes) < min(raw_sizes)
    assert len(statements) == len(plain) and min(statements) > 0
