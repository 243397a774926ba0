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


def _bench(name):
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        return __import__(name)
    finally:
        sys.path.pop(0)


def test_inbox_benchmark_runs():
    _seconds, total, results = _bench("bench_inbox").run("sqlite", 120, 50, 1)
    assert total == 120 - 120 // 50  # qa2 holds every 50th row (claimed: not in qa's inbox)
    assert {status for *_, status in results} == {200} and len(results) == 6


def test_throughput_benchmark_runs():
    result = _bench("bench_throughput").run("sqlite", 1.5, 2, 2)
    assert result["completions"] > 0 and result["errors"] == 0 and result["chain_ok"]
