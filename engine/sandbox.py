"""A restricted environment for BPMN scripts, conditions and DMN expressions.

Scripts come from process files that process owners edit, so they get no imports, no dunder names
or attributes, no file or eval access, and a whitelist of builtins. The source is checked with the
`ast` module before it is compiled; compiled code is cached per source text.
"""
from functools import lru_cache
import ast
import datetime
import decimal
import math

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

from .errors import ScriptError

SAFE_BUILTINS = {name: __builtins__[name] if isinstance(__builtins__, dict) else getattr(__builtins__, name)
                 for name in (
                     "abs", "all", "any", "bool", "dict", "divmod", "enumerate", "filter", "float", "frozenset",
                     "int", "isinstance", "len", "list", "map", "max", "min", "range", "reversed", "round",
                     "set", "sorted", "str", "sum", "tuple", "zip", "True", "False", "None", "ValueError",
                     "KeyError", "TypeError", "Exception",
                 )}
SAFE_GLOBALS = {"datetime": datetime, "decimal": decimal, "math": math}
FORBIDDEN_NODES = (ast.Import, ast.ImportFrom, ast.Global, ast.Nonlocal, ast.AsyncFunctionDef, ast.Await,
                   ast.Yield, ast.YieldFrom, ast.ClassDef)


def check_source(source, mode):
    """Raise ScriptError if `source` uses imports, dunder names or attributes, or cannot compile."""
    try:
        tree = ast.parse(source, mode=mode)
    except SyntaxError as exc:
        raise ScriptError(f"syntax error in line {exc.lineno}: {exc.msg}") from None
    for node in ast.walk(tree):
        if isinstance(node, FORBIDDEN_NODES):
            raise ScriptError(f"{type(node).__name__} is not allowed in process scripts")
        name = getattr(node, "id", None) or getattr(node, "attr", None) or getattr(node, "name", None)
        if isinstance(name, str) and name.startswith("_"):
            raise ScriptError(f"names starting with '_' are not allowed in process scripts: {name}")
    return tree


@lru_cache(maxsize=2048)
def _compiled(source, mode):
    check_source(source, mode)
    return compile(source, "<bpmn script>", mode)


class SandboxedEnvironment(TaskDataEnvironment):
    """TaskDataEnvironment whose code is checked and runs with whitelisted builtins only."""

    def __init__(self, extra_globals=None):
        super().__init__({**SAFE_GLOBALS, **(extra_globals or {}), "__builtins__": SAFE_BUILTINS})

    def evaluate(self, expression, context, external_context=None):
        """Evaluate a condition or expression against task data."""
        my_globals = dict(self.globals)
        my_globals.update(external_context or {})
        my_globals.update(context)
        my_globals["__builtins__"] = SAFE_BUILTINS
        return eval(_compiled(expression.strip(), "eval"), my_globals)

    def execute(self, script, context, external_context=None):
        """Run a script task or pre/post script; its assignments land in the task data."""
        code = _compiled(script, "exec")
        self.check_for_overwrite(context, external_context or {})
        context.update(self.globals)
        context.update(external_context or {})
        context["__builtins__"] = SAFE_BUILTINS
        try:
            exec(code, context)
        finally:
            self._remove_globals_and_functions_from_context(context, external_context)
        return True


def script_engine(extra_globals=None):
    """A fresh PythonScriptEngine over the sandboxed environment."""
    return PythonScriptEngine(environment=SandboxedEnvironment(extra_globals))
