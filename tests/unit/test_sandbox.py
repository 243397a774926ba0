"""The script sandbox refuses a list of known escapes and stops runaway scripts."""

import time

import pytest

from engine import ScriptError
from engine.sandbox import script_engine

ATTACKS = [
    ("import os", "exec"),
    ("from os import system", "exec"),
    ("__import__('os').system('id')", "eval"),
    ("().__class__.__base__.__subclasses__()", "eval"),
    ("[c for c in ().__class__.__mro__[1].__subclasses__()]", "eval"),
    ("'{0.__class__.__mro__}'.format(1)", "eval"),
    ("'{x.__class__}'.format_map({'x': 1})", "eval"),
    ("(x for x in ()).gi_frame.f_globals", "eval"),
    ("open('/etc/passwd').read()", "eval"),
    ("eval('1+1')", "eval"),
    ("exec('x = 1')", "exec"),
    ("compile('1', 'x', 'eval')", "eval"),
    ("getattr(1, '__class__')", "eval"),
    ("type(1)", "eval"),
    ("globals()", "eval"),
    ("vars()", "eval"),
    ("(lambda: 0).__globals__", "eval"),
    ("datetime.sys", "eval"),
    ("math.__loader__", "eval"),
    ("class A: pass", "exec"),
    ("global x\nx = 1", "exec"),
    ("10 ** 10 ** 10", "eval"),
    ("'a' * 10 ** 10", "eval"),
    ("[0] * 10 ** 9", "eval"),
    ("sum(range(10 ** 12))", "eval"),
    ("x = 2\nx **= 100000", "exec"),
    ("while True: pass", "exec"),
    ("[1 for a in range(10**6) for b in range(10**6)]", "eval"),
    ("x = [0]\ny = 0\nfor i in range(40):\n    x[0:0], y = x, 1", "exec"),  # a slice inside unpacking
]


@pytest.mark.parametrize("source, mode", ATTACKS)
def test_attack_is_refused(source, mode):
    env = script_engine().environment
    started = time.monotonic()
    with pytest.raises((ScriptError, NameError, AttributeError)):
        if mode == "eval":
            env.evaluate(source, {})
        else:
            env.execute(source, {})
    assert time.monotonic() - started < 5


def test_ordinary_scripts_still_work():
    env = script_engine().environment
    context = {"qty": 12, "limit": 10, "items": [{"n": 2}, {"n": 3}]}
    env.execute("over = qty > limit\ntotal = sum(i['n'] for i in items)\nsq = 3 ** 4\nline = '-' * 5", context)
    assert (context["over"], context["total"], context["sq"], context["line"]) == (True, 5, 81, "-----")
    assert env.evaluate("datetime.date(2026, 1, 31).isoformat()", {}) == "2026-01-31"
    assert env.evaluate("round(math.sqrt(x), 2)", {"x": 2}) == 1.41


def test_the_time_limit_counts_the_scripts_own_cpu_time_not_the_wall_clock():
    """A thread kept off the CPU for longer than the limit (a busy machine) does not fail its script;
    a script that computes for longer than the limit still does (`while True: pass` above)."""
    from engine.sandbox import CHECK_EVERY, TIME_LIMIT_SECONDS, _run_limited

    def descheduled():
        time.sleep(TIME_LIMIT_SECONDS + 0.2)  # stands in for the scheduler running other processes
        total = 0
        for i in range(CHECK_EVERY * 4):  # then enough traced events to read the clock again
            total += i
        return total

    assert _run_limited(descheduled) == sum(range(CHECK_EVERY * 4))


# One C call each that would allocate hundreds of megabytes (or more) before the next trace event.
SIZE_ATTACKS = [
    ('f"{0:>300000000}"', "MAX_SEQUENCE"),
    ('f"{0:>{n}}"', "MAX_SEQUENCE"),
    ('f"{1.5:.300000000f}"', "MAX_SEQUENCE"),
    ('"a".ljust(300000000)', "MAX_SEQUENCE"),
    ('"a".rjust(300000000, "x")', "MAX_SEQUENCE"),
    ('"a".center(300000000)', "MAX_SEQUENCE"),
    ('"a".zfill(300000000)', "MAX_SEQUENCE"),
    ('str.ljust("a", 300000000)', "MAX_SEQUENCE"),
    ('("\\t" * 10**6).expandtabs(300)', "MAX_SEQUENCE"),
    ('("a" * 10**6).replace("a", "a" * 300)', "MAX_SEQUENCE"),
    ('("a" * 10**6).translate({97: "a" * 300})', "MAX_SEQUENCE"),
    ('",".join(["a" * 10**6] * 300)', "MAX_SEQUENCE"),
    ('b",".join([b"a" * 10**6] * 300)', "MAX_SEQUENCE"),
    ('"x" * 10**9', "MAX_SEQUENCE"),
    ('b"x" * 10**9', "MAX_SEQUENCE"),
    ("10**9 * (1,)", "MAX_SEQUENCE"),
    ('"%300000000d" % 0', "MAX_SEQUENCE"),
    ('"%*d" % (300000000, 0)', "MAX_SEQUENCE"),
    ('"%s" * 1000 % (("a" * 10**6,) * 1000)', "MAX_SEQUENCE"),
    ('str(["a" * 10**6] * 1000)', "MAX_SEQUENCE"),
    ("f\"{['a' * 10**6] * 1000}\"", "MAX_SEQUENCE"),
    ('(0).to_bytes(300000000, "big")', "MAX_SEQUENCE"),
    ("sum([[1] * 1000] * 10**4, [])", "MAX_SEQUENCE"),
    ("math.prod(['a', 10**9])", "MAX_SEQUENCE"),
    ("1 << 10**9", "MAX_INT_BITS"),
    ("(2**2000) * (2**2000) * (2**2000)", "MAX_INT_BITS"),
    ("x = 2**2000\nfor i in range(30):\n    x *= x", "MAX_INT_BITS"),
    ("math.prod([2**2000] * 10**4)", "MAX_INT_BITS"),
    ('["a" * 10**6 for i in range(300)]', "MAX_SCRIPT_MEMORY"),
    ("[[0] * 10**6 for i in range(300)]", "MAX_SCRIPT_MEMORY"),
    ("[list(range(10**6)) for i in range(300)]", "MAX_SCRIPT_MEMORY"),
    ('{i: "a" * 10**6 for i in range(300)}', "MAX_SCRIPT_MEMORY"),
    ("[s + s for i in range(300)]", "MAX_SCRIPT_MEMORY"),
    ('x = {"s": "x"}\nx["s"] *= 10**9', "MAX_SEQUENCE"),
    ('x = "ab"\nfor i in range(40):\n    x += x', "MAX_SEQUENCE"),
    ("x = [0]\nfor i in range(40):\n    x.extend(x)", "MAX_SEQUENCE"),
    ("x = [0]\nfor i in range(40):\n    x[len(x):] = x", "MAX_SEQUENCE"),
    ("x = [0]\nfor i in range(40):\n    x = [*x, *x]", "MAX_SEQUENCE"),
    ("x = (0,)\nfor i in range(40):\n    x = (*x, *x)", "MAX_SEQUENCE"),
    ("x = [0]\nfor i in range(40):\n    x = {*x, *range(len(x), 2 * len(x))}", "MAX_SEQUENCE"),
    ("x = [0] * 10**6\nfor i in range(300):\n    x = x[:] + []", "MAX_SCRIPT_MEMORY"),
    ('out = []\nfor i in range(300):\n    out.append("b".ljust(10**6))', "MAX_SCRIPT_MEMORY"),
    ('x = ["a" * 10**5] * 1000', "MAX_DATA_CHARS"),
]
SIZE_CONTEXT = {"n": 300000000, "s": "a" * 500_000}


def _run(env, source, context):
    if "\n" in source or source.startswith("x ="):
        env.execute(source, context)
    else:
        env.evaluate(source, context)


@pytest.fixture
def address_space_cap():
    """Should a limit fail, the attack gets a MemoryError instead of exhausting the machine: the
    process may grow by 2 GiB of address space during the test (Linux)."""
    resource = pytest.importorskip("resource")
    try:
        with open("/proc/self/status") as status:
            size = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
    except OSError:
        pytest.skip("no /proc/self/status to measure the address space")
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = size + 2 * 2**30 if hard == resource.RLIM_INFINITY else min(size + 2 * 2**30, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    yield
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@pytest.mark.parametrize("source, limit", SIZE_ATTACKS)
def test_a_single_call_cannot_build_a_huge_result(source, limit, address_space_cap):
    env = script_engine().environment
    started = time.monotonic()
    with pytest.raises(ScriptError, match=limit):
        _run(env, source, dict(SIZE_CONTEXT))
    assert time.monotonic() - started < 5


def test_memory_stays_bounded_while_the_attacks_run():
    """In a process of its own (its peak RSS starts low; an address-space limit keeps the machine
    safe should a limit fail): the peak resident size grows by less than 100 MB over every attack."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    driver = """
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))
from engine import ScriptError
from engine.sandbox import script_engine
attacks, context = json.loads(sys.stdin.read())
env = script_engine().environment
env.evaluate("len(str([1, 2])) + len(f'{1:>3}')", {})  # warm up (compile, first allocations)
peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
start, results = peak(), []
for source, _limit in attacks:
    before = peak()
    try:
        if "\\n" in source or source.startswith("x ="):
            env.execute(source, dict(context))
        else:
            env.evaluate(source, dict(context))
        outcome = "completed"
    except ScriptError as exc:
        outcome = "ScriptError: " + str(exc)
    except BaseException as exc:
        outcome = type(exc).__name__ + ": " + str(exc)[:200]
    results.append([source, outcome, peak() - before])
print(json.dumps({"start": start, "end": peak(), "results": results}))
"""
    root = Path(__file__).resolve().parent.parent
    run = subprocess.run(
        [sys.executable, "-c", driver],
        input=json.dumps([SIZE_ATTACKS, SIZE_CONTEXT]),
        capture_output=True,
        text=True,
        cwd=root,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    report = json.loads(run.stdout)
    for source, outcome, _grown in report["results"]:
        assert outcome.startswith("ScriptError"), (source, outcome)
    grown = {source: mb for source, _outcome, mb in report["results"] if mb}
    assert report["end"] - report["start"] < 100, grown


def test_ordinary_scripts_within_the_size_limits_still_work():
    env = script_engine().environment
    assert env.evaluate('f"{1.5:.2f}|{3:05d}|{name!r}|{name:>6}|{n:,}"', {"name": "ab", "n": 1234567}) == (
        "1.50|00003|'ab'|    ab|1,234,567"
    )
    assert env.evaluate('f"{datetime.date(2026, 1, 2):%Y-%m-%d} {x:{w}}"', {"x": 7, "w": 3}) == "2026-01-02   7"
    assert env.evaluate('"%s-%05d" % ("a", 3)', {}) == "a-00003"
    assert env.evaluate('"%(k)s/%(v).1f" % {"k": "a", "v": 2}', {}) == "a/2.0"
    assert env.evaluate('", ".join(str(i) for i in range(3)) + "a".ljust(3, ".") + "7".zfill(3)', {}) == "0, 1, 2a..007"
    assert env.evaluate('"a-b".replace("-", "+") + "x\\ty".expandtabs(4) + str.upper("q")', {}) == "a+bx   yQ"
    assert env.evaluate("str([1, 'a']) + str(2) + str(b'x', 'ascii')", {}) == "[1, 'a']2x"
    assert env.evaluate("isinstance('a', str) and not isinstance(1, str) and isinstance('a', (int, str))", {})
    assert env.evaluate("sorted(map(str, [3, 1])) + sum([[1], [2]], []) + list(sum(((3,), (4,)), ()))", {}) == [
        "1",
        "3",
        1,
        2,
        3,
        4,
    ]
    assert env.evaluate("(round(2.675, 2), round(1234, -2), round(5, -10**7), math.prod([2, 3.5]))", {}) == (
        2.67,
        1200,
        0,
        7.0,
    )
    assert env.evaluate("(2**100 * 3, 1 << 10, 7 % 3, (300).to_bytes(2, 'big'))", {}) == (3 * 2**100, 1024, 1, b"\x01,")
    assert env.evaluate("datetime.date(2026, 1, 31).replace(day=1).isoformat()", {}) == "2026-01-01"
    context = {"d": {"n": 1, "s": "ab"}, "rows": [1, 2, 3]}
    env.execute(
        "x = [1]\ny = x\nx += [2]\nd['n'] += 2\nd['s'] *= 2\nrows[1:2] = [7, 8]\nrows.extend(range(2))\n"
        "squares = {i: i * i for i in range(4)}\ntotal = sum(len(s) for s in ['ab', 'c'])",
        context,
    )
    assert (context["y"], context["d"], context["rows"]) == ([1, 2], {"n": 3, "s": "abab"}, [1, 7, 8, 3, 0, 1])
    assert (context["squares"], context["total"]) == ({0: 0, 1: 1, 2: 4, 3: 9}, 3)
    assert env.evaluate("len(['a' * 10**5 for i in range(50)]) + len('a' * 10**6) + len(range(10**6))", {}) == (
        50 + 2 * 10**6
    )


def test_single_calls_that_would_compute_for_minutes_are_quick():
    """round() of an int to a huge negative precision computed 10**n; sum() of lists copies at every
    step (quadratic): one C call each, beyond the reach of the CPU-time limit."""
    env = script_engine().environment
    started = time.process_time()
    assert env.evaluate("round(7, -10**8)", {}) == 0
    assert env.evaluate("len(sum([[1]] * 10**5, []))", {}) == 10**5
    assert time.process_time() - started < 1


def test_an_exception_a_script_raises_carries_a_bounded_message():
    env = script_engine().environment
    with pytest.raises(ValueError) as info:
        env.execute('raise ValueError(["a" * 10**6] * 1000)', {})
    assert len(str(info.value)) < 2000
    with pytest.raises(KeyError) as info:
        env.evaluate("{}[('a' * 10**6,) * 1000]", {})
    assert len(str(info.value)) < 2000
    with pytest.raises(ValueError, match=r"^bad input$"):
        env.execute("raise ValueError('bad input')", {})


def test_unpacking_and_tuple_assignment_still_work():
    env = script_engine().environment
    context = {"items": [1, 2, 3]}
    env.execute("first, *rest = items\na, b = 1, 2\na, b = b, a\nboth = [*items, *rest]\npair = (*rest,)", context)
    assert (context["first"], context["rest"], context["a"], context["b"]) == (1, [2, 3], 2, 1)
    assert context["both"] == [1, 2, 3, 2, 3] and context["pair"] == (2, 3)
