"""A restricted environment for BPMN scripts, conditions, timer expressions and DMN cells.

Scripts come from process files that process owners edit, so they get:
- no imports, no `global`, no class definitions;
- no names or attributes starting with `_` and none of the introspection attributes that reach
  frames or code (`gi_frame`, `f_globals`, `format`, …), so `().__class__.__base__.__subclasses__()`
  and `"{0.__class__}".format(x)` cannot be written;
- a whitelist of builtins (no `open`, `eval`, `exec`, `getattr`, `type`, `vars`, `globals`);
- a CPU-time limit per evaluation (a trace function stops `while True: pass`) and size limits
  (`sandbox_limits`): every operation one C call of which could build an arbitrarily large result
  (`*`, `**`, `+`, `<<`, `%`, f-strings, `str()`, padding, `replace`, `join`, `range`, …) goes
  through a helper that computes the result's size first and raises ScriptError naming the limit;
  comprehensions count their elements; the task data after a script and an expression's value are
  bounded as text, so a script can neither hang nor exhaust a web worker.
The source is checked and rewritten with `ast` before it is compiled; compiled code is cached.
"""

import ast
import builtins
import datetime
import decimal
import math
import sys
import time
import traceback
import types
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException

from . import sandbox_limits as limits
from .errors import ScriptError
from .sandbox_limits import MAX_DATA_CHARS, MAX_INT_BITS, MAX_SCRIPT_MEMORY, MAX_SEQUENCE  # noqa: F401

if TYPE_CHECKING:
    from _typeshed import TraceFunction
    from SpiffWorkflow.task import Task

    from .operations import OperationRegistry

_T = TypeVar("_T")
# The comprehensions whose elements _Guard counts.
_Comprehension = TypeVar("_Comprehension", ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)

TIME_LIMIT_SECONDS = 1.0
CHECK_EVERY = 256
MAX_RANGE = 1_000_000

SAFE_BUILTIN_NAMES = (
    "abs",
    "all",
    "any",
    "bool",
    "dict",
    "divmod",
    "enumerate",
    "filter",
    "float",
    "frozenset",
    "int",
    "isinstance",
    "len",
    "list",
    "map",
    "max",
    "min",
    "reversed",
    "round",
    "set",
    "sorted",
    "str",
    "sum",
    "tuple",
    "zip",
    "True",
    "False",
    "None",
    "ValueError",
    "KeyError",
    "TypeError",
    "Exception",
)


def _namespace(module: types.ModuleType, names: tuple[str, ...], **replaced: Any) -> types.SimpleNamespace:
    """Only the listed members of a module (and bounded replacements): the module object itself
    (and its imports, such as `datetime.sys`) stays out of reach."""
    return types.SimpleNamespace(**{name: getattr(module, name) for name in names}, **replaced)


SAFE_GLOBALS = {
    "datetime": _namespace(datetime, ("date", "datetime", "time", "timedelta", "timezone", "MINYEAR", "MAXYEAR")),
    "decimal": _namespace(decimal, ("Decimal", "ROUND_HALF_UP", "ROUND_HALF_EVEN", "ROUND_DOWN", "ROUND_UP")),
    "math": _namespace(
        math,
        (
            "ceil",
            "floor",
            "sqrt",
            "exp",
            "log",
            "log10",
            "pow",
            "fabs",
            "isclose",
            "pi",
            "e",
            "inf",
            "isnan",
            "isinf",
            "trunc",
            "fsum",
        ),
        prod=limits.script_prod,
    ),
}
FORBIDDEN_NODES = (
    ast.Import,
    ast.ImportFrom,
    ast.Global,
    ast.Nonlocal,
    ast.AsyncFunctionDef,
    ast.Await,
    ast.Yield,
    ast.YieldFrom,
    ast.ClassDef,
    ast.AsyncFor,
    ast.AsyncWith,
)
FORBIDDEN_ATTRIBUTES = {
    "format",
    "format_map",
    "mro",
    "gi_frame",
    "gi_code",
    "gi_yieldfrom",
    "cr_frame",
    "cr_code",
    "ag_frame",
    "ag_code",
    "f_globals",
    "f_locals",
    "f_builtins",
    "f_back",
    "f_code",
    "tb_frame",
    "tb_next",
    "co_code",
    "func_globals",
    "func_code",
}


_BINARY_HELPERS: dict[type[ast.operator], str] = {
    ast.Pow: "__tf_pow",
    ast.Mult: "__tf_mul",
    ast.Add: "__tf_add",
    ast.LShift: "__tf_lshift",
}
_BINARY_HELPERS[ast.Mod] = "__tf_mod"
_OPERATOR_SYMBOLS: dict[type[ast.operator], str] = {
    ast.Pow: "**",
    ast.Mult: "*",
    ast.Add: "+",
    ast.LShift: "<<",
    ast.Mod: "%",
}


_Display = ast.List | ast.Tuple | ast.Set


def _call(helper: str, *args: ast.expr) -> ast.Call:
    return ast.Call(ast.Name(helper, ast.Load()), list(args), [])


def _as_expression(key: ast.expr) -> ast.expr:
    """A subscript's key as an expression (a slice `a:b:c` becomes `slice(a, b, c)`)."""
    if isinstance(key, ast.Slice):
        parts = [part or ast.Constant(None) for part in (key.lower, key.upper, key.step)]
        return ast.copy_location(_call("__tf_slice", *parts), key)
    return key


class _Guard(ast.NodeTransformer):
    """Routes every operation whose result size a script controls through the bounded helpers of
    `sandbox_limits` (see HELPERS): `**`, `*`, `+`, `<<`, `%` (also as `op=`, on names, items and
    attributes), f-string fields and f-strings, the methods in `limits.METHODS`, slice assignment,
    and the elements of comprehensions."""

    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        self.generic_visit(node)
        helper = _BINARY_HELPERS.get(type(node.op))
        if helper is None:
            return node
        return ast.copy_location(_call(helper, node.left, node.right), node)

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.stmt:
        self.generic_visit(node)
        symbol = _OPERATOR_SYMBOLS.get(type(node.op))
        if symbol is None:
            return node
        target, op = node.target, ast.Constant(symbol)
        if isinstance(target, ast.Name):
            value = _call("__tf_inplace", op, ast.Name(target.id, ast.Load()), node.value)
            return ast.copy_location(ast.Assign([target], value), node)
        if isinstance(target, ast.Subscript):
            call = _call("__tf_augment_item", target.value, _as_expression(target.slice), op, node.value)
        else:  # ast.Attribute
            call = _call("__tf_augment_attribute", target.value, ast.Constant(target.attr), op, node.value)
        return ast.copy_location(ast.Expr(call), node)

    def _sized_display(self, node: _Display) -> ast.expr:
        self.generic_visit(node)
        loading = isinstance(getattr(node, "ctx", ast.Load()), ast.Load)  # a set display has no ctx
        if loading and any(isinstance(element, ast.Starred) for element in node.elts):
            return ast.copy_location(_call("__tf_unpacked", node), node)
        return node

    def visit_List(self, node: ast.List) -> ast.expr:
        return self._sized_display(node)

    def visit_Tuple(self, node: ast.Tuple) -> ast.expr:
        return self._sized_display(node)

    def visit_Set(self, node: ast.Set) -> ast.expr:
        return self._sized_display(node)

    def visit_Assign(self, node: ast.Assign) -> ast.stmt:
        self.generic_visit(node)
        nested = [
            element
            for target in node.targets
            if isinstance(target, ast.Tuple | ast.List)
            for element in ast.walk(target)
            if isinstance(element, ast.Subscript) and isinstance(element.slice, ast.Slice)
        ]
        if nested:  # `x[0:0], y = x, 1` would grow x unchecked
            raise ScriptError("assign to a slice in an assignment of its own in process scripts")
        slices = [t for t in node.targets if isinstance(t, ast.Subscript) and isinstance(t.slice, ast.Slice)]
        if not slices:
            return node
        if len(node.targets) > 1:
            raise ScriptError("assign to a slice in an assignment of its own in process scripts")
        target = slices[0]  # the only target
        call = _call("__tf_setitem", target.value, _as_expression(target.slice), node.value)
        return ast.copy_location(ast.Expr(call), node)

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.expr:
        self.generic_visit(node)
        spec = node.format_spec if node.format_spec is not None else ast.Constant("")
        return ast.copy_location(_call("__tf_format", node.value, ast.Constant(node.conversion), spec), node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.expr:
        self.generic_visit(node)  # the fields are __tf_format calls now
        return ast.copy_location(_call("__tf_fstring", ast.List(node.values, ast.Load())), node)

    def visit_Attribute(self, node: ast.Attribute) -> ast.expr:
        self.generic_visit(node)
        if isinstance(node.ctx, ast.Load) and node.attr in limits.METHODS:
            return ast.copy_location(_call("__tf_attribute", node.value, ast.Constant(node.attr)), node)
        return node

    def _count_elements(self, node: _Comprehension, *fields: str) -> _Comprehension:
        self.generic_visit(node)
        for field in fields:
            setattr(node, field, ast.copy_location(_call("__tf_item", getattr(node, field)), node))
        return node

    def visit_ListComp(self, node: ast.ListComp) -> ast.ListComp:
        return self._count_elements(node, "elt")

    def visit_SetComp(self, node: ast.SetComp) -> ast.SetComp:
        return self._count_elements(node, "elt")

    def visit_GeneratorExp(self, node: ast.GeneratorExp) -> ast.GeneratorExp:
        return self._count_elements(node, "elt")

    def visit_DictComp(self, node: ast.DictComp) -> ast.DictComp:
        return self._count_elements(node, "key", "value")


def _safe_range(*args: int) -> range:
    result = range(*args)
    if len(result) > MAX_RANGE:
        raise ScriptError(f"range longer than {MAX_RANGE} in a process script")
    limits.charge(8 * len(result), "range()")  # what a list of it would hold
    return result


SAFE_BUILTINS = {name: getattr(builtins, name) for name in SAFE_BUILTIN_NAMES}
SAFE_BUILTINS.update(range=_safe_range, str=limits.ScriptStr, sum=limits.script_sum, round=limits.script_round)
HELPERS: dict[str, Callable[..., Any]] = {
    "__tf_pow": limits.power,
    "__tf_mul": limits.mul,
    "__tf_add": limits.add,
    "__tf_lshift": limits.lshift,
    "__tf_mod": limits.mod,
    "__tf_inplace": limits.inplace,
    "__tf_augment_item": limits.augment_item,
    "__tf_augment_attribute": limits.augment_attribute,
    "__tf_setitem": limits.setitem,
    "__tf_unpacked": limits.unpacked,
    "__tf_slice": slice,
    "__tf_format": limits.format_value,
    "__tf_fstring": limits.join_fstring,
    "__tf_attribute": limits.attribute,
    "__tf_item": limits.item,
}
_UNTRACED = (limits.__file__, __file__)


def check_source(source: str, mode: str) -> ast.AST:
    """Raise ScriptError if `source` cannot compile or uses anything the sandbox forbids; return the tree."""
    try:
        tree = ast.parse(source, mode=mode)
    except SyntaxError as exc:
        raise ScriptError(f"syntax error in line {exc.lineno}: {exc.msg}") from None
    for node in ast.walk(tree):
        if isinstance(node, FORBIDDEN_NODES):
            raise ScriptError(f"{type(node).__name__} is not allowed in process scripts")
        name = (
            getattr(node, "id", None)
            or getattr(node, "attr", None)
            or getattr(node, "name", None)
            or getattr(node, "arg", None)
        )
        if isinstance(name, str) and name.startswith("_"):
            raise ScriptError(f"names starting with '_' are not allowed in process scripts: {name}")
        if isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_ATTRIBUTES:
            raise ScriptError(f"attribute '{node.attr}' is not allowed in process scripts")
    return tree


SCRIPT_FILENAME = "<bpmn script>"


@lru_cache(maxsize=2048)
def _compiled(source: str, mode: str) -> types.CodeType:
    tree = ast.fix_missing_locations(_Guard().visit(check_source(source, mode)))
    return compile(tree, SCRIPT_FILENAME, mode)


def _run_limited(func: Callable[[], _T]) -> _T:
    """Run `func()` with a limit on the CPU time it uses, enforced by a trace function on every line,
    call and opcode. CPU time of this thread, not the wall clock: scripts cannot wait on anything (no
    I/O is in reach), so only their own work counts, and a busy machine descheduling the thread does
    not fail a harmless script. The clock is read every CHECK_EVERY events (it is a system call)."""
    deadline = time.thread_time() + TIME_LIMIT_SECONDS
    events = 0

    def tracer(frame: types.FrameType, event: str, arg: Any) -> "TraceFunction | None":
        nonlocal events
        if event == "call" and frame.f_code.co_filename in _UNTRACED:
            return None  # the sandbox's own helpers: bounded work, not script steps
        # Opcode events: a one-line `while True: pass` produces no further line events.
        frame.f_trace_opcodes = True
        events += 1
        if events % CHECK_EVERY == 0 and time.thread_time() > deadline:
            raise ScriptError(f"a process script ran longer than {TIME_LIMIT_SECONDS} s")
        return tracer

    previous = sys.gettrace()
    with limits.Budget():
        sys.settrace(tracer)
        try:
            return func()
        except ScriptError:
            raise
        except Exception as exc:
            limits.bound_exception(exc)
            raise
        finally:
            sys.settrace(previous)


class SandboxedEnvironment(TaskDataEnvironment):  # type: ignore[misc]  # SpiffWorkflow ships no type hints: its classes are Any
    """TaskDataEnvironment whose code is checked, bounded and run with whitelisted builtins only."""

    def __init__(
        self, extra_globals: dict[str, Any] | None = None, operations: "OperationRegistry | None" = None
    ) -> None:
        super().__init__({**SAFE_GLOBALS, **(extra_globals or {}), "__builtins__": SAFE_BUILTINS})
        self.operations = operations

    def call_service(
        self,
        context: dict[str, Any],
        operation_name: str | None = None,
        operation_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> str:
        """Run a registered service-task operation (see engine.operations)."""
        from .operations import ServiceError

        if self.operations is None:
            raise ServiceError(operation_name, "no operations are available")
        return self.operations.call(operation_name, operation_params or {})

    def evaluate(self, expression: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> Any:
        """Evaluate a condition or expression against task data."""
        code = _compiled(expression.strip(), "eval")
        my_globals = dict(self.globals)
        my_globals.update(external_context or {})
        my_globals.update(context)
        my_globals.update(HELPERS)
        my_globals["__builtins__"] = SAFE_BUILTINS
        result = _run_limited(lambda: eval(code, my_globals))
        limits.check_data(result, "the value of this expression")
        return result

    def execute(self, script: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> bool:
        """Run a script task or pre/post script; its assignments land in the task data."""
        code = _compiled(script, "exec")
        self.check_for_overwrite(context, external_context or {})
        context.update(self.globals)
        context.update(external_context or {})
        context.update(HELPERS)
        context["__builtins__"] = SAFE_BUILTINS
        try:
            _run_limited(lambda: exec(code, context))
        finally:
            for name in HELPERS:
                context.pop(name, None)
            self._remove_globals_and_functions_from_context(context, external_context)
        limits.check_data(context, "the task data after this script")
        return True


class TraceflowScriptEngine(PythonScriptEngine):  # type: ignore[misc]  # SpiffWorkflow ships no type hints: its classes are Any
    """Calls services without SpiffWorkflow's wrapper, which loses the error (it names an undefined
    variable); our ServiceError reaches the caller intact."""

    environment: SandboxedEnvironment  # script_engine() builds every one over the sandbox

    def call_service(self, task: "Task", **kwargs: Any) -> str:
        return self.environment.call_service(task.data, **kwargs)

    def get_error_line_number_and_content(self, script: str | None, err: BaseException) -> tuple[int, str]:
        """The failing line of the script: SpiffWorkflow looks for frames named '<string>', ours
        are compiled as '<bpmn script>'."""
        line = err.lineno or 0 if isinstance(err, SyntaxError) else 0
        for frame in traceback.extract_tb(err.__traceback__):
            if frame.filename == SCRIPT_FILENAME:
                line = frame.lineno or 0
        lines = script.splitlines() if script else []
        return line, lines[line - 1].strip() if 0 < line <= len(lines) else ""

    def create_task_exec_exception(self, task: "Task", script: str | None, err: Exception) -> WorkflowTaskException:
        """SpiffWorkflow's own version appends `err.args[0]` to a string and fails with a TypeError
        when that is not text (decimal's Overflow carries a list): format every error safely."""
        if isinstance(err, SpiffWorkflowException):
            return super().create_task_exec_exception(task, script, err)
        line_number, error_line = self.get_error_line_number_and_content(script, err)
        text = str(err)[:500]
        detail = (
            text if isinstance(err, ScriptError) else f"{type(err).__name__}: {text}" if text else type(err).__name__
        )
        return WorkflowTaskException(detail, task=task, exception=err, line_number=line_number, error_line=error_line)


def script_engine(
    extra_globals: dict[str, Any] | None = None, operations: "OperationRegistry | None" = None
) -> TraceflowScriptEngine:
    """A fresh script engine over the sandboxed environment."""
    return TraceflowScriptEngine(environment=SandboxedEnvironment(extra_globals, operations))
