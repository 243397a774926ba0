"""Size limits for process scripts: what one operation may build, checked before it is built.

The CPU-time limit of the sandbox stops Python loops, but one C call can allocate gigabytes before
the next trace event: `"a".ljust(300000000)`, `f"{0:>300000000}"`, `s.replace("a", "a" * 300)`,
`",".join([s] * 300)`, `str([s] * 1000)`. The sandbox (`sandbox._Guard`) routes every such
operation through the helpers here, which compute the size of the result from their arguments and
raise ScriptError naming the limit instead of building it:

- MAX_SEQUENCE: characters or items of one string, bytes, list or tuple a script builds (`*`, `+`,
  `%`, f-strings, str(), padding, zfill, expandtabs, replace, translate, join, list.extend, slice
  assignment, sum(), int.to_bytes);
- MAX_INT_BITS: bits of an integer built by `*`, `**`, `<<`, math.prod (and round() on an int);
- MAX_SCRIPT_MEMORY: bytes (estimated) of everything those operations, range() and comprehension
  elements build in one evaluation, so a loop or comprehension repeating an allowed operation
  stops too;
- MAX_DATA_CHARS: the size, as text, of the task data after a script and of an expression's value
  (shared references counted each time, as the JSON of the workflow state will hold them), and
  MAX_MESSAGE_CHARS for the text of an exception a script raises.

Copies of what already exists (`x[:]`, `list(x)`, `sorted(x)`) and splits are not checked: their
size is a small multiple of something already bounded, and a loop repeating them is bounded by the
CPU-time limit.

Functions here run untraced (the sandbox's tracer skips frames of this file), so their own loops
neither slow scripts down nor count as script steps.
"""

import decimal
import functools
import itertools
import operator
import re
import reprlib
import sys
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal, Self, SupportsIndex, TypeVar

from .errors import ScriptError

# A script's values are any Python objects: the helpers that apply Python's own operators to them
# take and return Any, those that only inspect them take `object`.
_T = TypeVar("_T")
_Text = TypeVar("_Text", str, bytes, bytearray)  # the receivers of the bounded text methods

MAX_SEQUENCE = 1_000_000
MAX_INT_BITS = 4_096
MAX_SCRIPT_MEMORY = 32 * 2**20
MAX_DATA_CHARS = 16_000_000
MAX_MESSAGE_CHARS = 10_000
# Concatenations (+, extend, slice assignment) count towards MAX_SCRIPT_MEMORY from this length on.
CHARGE_FROM = 65_536

TEXT = (str, bytes, bytearray)
SEQUENCES = (str, bytes, bytearray, list, tuple)
SIZED = (str, bytes, bytearray, list, tuple, dict, set, frozenset, range)
_MEASURED = (str, bytes, bytearray, list, tuple, dict, set, frozenset)

_budget = threading.local()


class Budget:
    """MAX_SCRIPT_MEMORY for one evaluation on this thread (a context manager; nests)."""

    def __enter__(self) -> Self:
        self.previous: int | None = getattr(_budget, "left", None)
        _budget.left = MAX_SCRIPT_MEMORY
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        _budget.left = self.previous
        return False


def charge(nbytes: int, what: str) -> None:
    """Count `nbytes` against the evaluation's MAX_SCRIPT_MEMORY (outside an evaluation: nothing)."""
    left: int | None = getattr(_budget, "left", None)
    if left is None:
        return
    left -= nbytes
    if left < 0:
        raise ScriptError(
            f"{what}: a process script may build at most {MAX_SCRIPT_MEMORY // 2**20} MiB of strings, "
            "bytes and lists in one run (MAX_SCRIPT_MEMORY)"
        )
    _budget.left = left


def _item_bytes(sample: object, others: Iterable[object] = ()) -> int:
    """Bytes per item of a result built from `sample` (and `others`): list slots, bytes, or the
    characters of a str (4 unless all of it is ASCII)."""
    if isinstance(sample, (list, tuple)):
        return 8
    if isinstance(sample, str):
        if not sample.isascii():
            return 4
        for other in others:
            if isinstance(other, str) and not other.isascii():
                return 4
        return 1
    return 1


def check_size(
    length: int, what: str, sample: object = "", others: Iterable[object] = (), charged: bool = True
) -> None:
    """Refuse a result of `length` items above MAX_SEQUENCE; count it against MAX_SCRIPT_MEMORY."""
    if length > MAX_SEQUENCE:
        raise ScriptError(
            f"{what} would build more than {MAX_SEQUENCE:,} characters or items ({length:,} counted), the "
            "limit for a process script (MAX_SEQUENCE)"
        )
    if charged:
        charge(length * _item_bytes(sample, others), what)


def check_bits(bits: int, what: str) -> None:
    """Refuse an integer result of more than MAX_INT_BITS bits."""
    if bits > MAX_INT_BITS:
        raise ScriptError(
            f"{what} would build an integer of more than {MAX_INT_BITS:,} bits (about {bits:,}), the limit "
            "for a process script (MAX_INT_BITS)"
        )


def text_size(value: object, limit: int = MAX_DATA_CHARS) -> int:
    """An upper estimate of the length of `value` as text (str() of it; inside containers, their
    repr; about its JSON), counting a shared reference each time it appears. Stops above `limit`."""
    size, stack = 0, [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            size += len(item) + 2
        elif isinstance(item, (bytes, bytearray)):
            size += 4 * len(item) + 3
        elif isinstance(item, (list, tuple, set, frozenset)):
            size += 2 + 2 * len(item)
            if size <= limit:
                stack.extend(item)
        elif isinstance(item, dict):
            size += 2 + 4 * len(item)
            if size <= limit:
                stack.extend(item.keys())
                stack.extend(item.values())
        elif isinstance(item, bool) or item is None:
            size += 5
        elif isinstance(item, int):
            size += item.bit_length() // 3 + 2
        elif isinstance(item, decimal.Decimal):
            _sign, digits, exponent = item.as_tuple()  # the exponent is 'n', 'N' or 'F' unless finite
            size += len(digits) + (abs(exponent) if isinstance(exponent, int) else 0) + 8
        elif isinstance(item, float):
            size += 330  # the longest fixed-point float
        else:
            size += 64  # dates, namespaces, functions
        if size > limit:
            return size
    return size


# --- operators -------------------------------------------------------------------------------


def _check_mul(left: object, right: object) -> None:
    for seq, count in ((left, right), (right, left)):
        if isinstance(seq, SEQUENCES) and isinstance(count, int):
            check_size(len(seq) * max(count, 0), "repetition (*)", seq)
            return
    if isinstance(left, int) and isinstance(right, int) and left and right:
        check_bits(left.bit_length() + right.bit_length(), "multiplication (*)")


def _check_pow(base: object, exponent: object) -> None:
    if isinstance(exponent, int) and isinstance(base, int) and abs(base) > 1 and exponent > 0:
        check_bits(exponent * abs(base).bit_length(), "power (**)")


def _check_add(left: object, right: object) -> None:
    if isinstance(left, SEQUENCES) and isinstance(right, SEQUENCES):
        length = len(left) + len(right)
        check_size(length, "concatenation (+)", left, (right,), charged=length >= CHARGE_FROM)


def _check_lshift(left: object, right: object) -> None:
    if isinstance(left, int) and isinstance(right, int) and left and right > 0:
        check_bits(left.bit_length() + right, "shift (<<)")


_PERCENT = re.compile(
    r"%(?:\((?P<key>[^)]*)\))?[-#0 +]*(?P<width>\*|\d+)?(?:\.(?P<precision>\*|\d+))?[hlL]?(?P<kind>[%a-zA-Z])?"
)


def _number(digits: str) -> int:
    return MAX_SEQUENCE + 1 if len(digits) > 9 else int(digits)


def percent_size(template: str | bytes | bytearray, args: object) -> int:
    """An upper estimate of the length of `template % args`: the template, every width and
    precision (also those given by `*`) and the text of every value it formats."""
    text = template.decode("latin-1") if isinstance(template, (bytes, bytearray)) else template
    values = args if isinstance(args, tuple) else (args,)
    size, position = len(text), 0
    for match in _PERCENT.finditer(text):
        if match["kind"] == "%":
            continue
        for part in (match["width"], match["precision"]):
            if part == "*":
                star = values[position] if position < len(values) else 0
                position += 1
                size += abs(star) if isinstance(star, int) else 0
            elif part:
                size += _number(part)
        if match["key"] is not None:
            value = args.get(match["key"]) if isinstance(args, dict) else None
        else:
            value = values[position] if position < len(values) else None
            position += 1
        size += text_size(value, MAX_SEQUENCE)
        if size > MAX_SEQUENCE:
            break
    return size


def _check_mod(left: object, right: object) -> None:
    if isinstance(left, TEXT):
        check_size(percent_size(left, right), "%-formatting", left)


_CHECKS: dict[str, Callable[[object, object], None]] = {
    "*": _check_mul,
    "**": _check_pow,
    "+": _check_add,
    "<<": _check_lshift,
    "%": _check_mod,
}
_INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "*": operator.imul,
    "**": operator.ipow,
    "+": operator.iadd,
    "<<": operator.ilshift,
    "%": operator.imod,
}


def mul(left: Any, right: Any) -> Any:
    """`left * right`, bounded."""
    _check_mul(left, right)
    return left * right


def power(base: Any, exponent: Any) -> Any:
    """`base ** exponent`, bounded."""
    _check_pow(base, exponent)
    return base**exponent


def add(left: Any, right: Any) -> Any:
    """`left + right`, bounded."""
    _check_add(left, right)
    return left + right


def lshift(left: Any, right: Any) -> Any:
    """`left << right`, bounded."""
    _check_lshift(left, right)
    return left << right


def mod(left: Any, right: Any) -> Any:
    """`left % right` (also %-formatting), bounded."""
    _check_mod(left, right)
    return left % right


def inplace(op: str, left: Any, right: Any) -> Any:
    """`left op= right` (in place where Python does it in place), bounded."""
    _CHECKS[op](left, right)
    return _INPLACE[op](left, right)


def setitem(container: Any, key: Any, value: Any) -> None:
    """`container[key] = value`; assigning to a slice of a list may not grow it past MAX_SEQUENCE."""
    if isinstance(key, slice) and isinstance(container, list) and isinstance(value, SIZED):
        length = len(container) - len(container[key]) + len(value)
        check_size(length, "slice assignment", container, charged=length >= CHARGE_FROM)
    container[key] = value


def augment_item(container: Any, key: Any, op: str, value: Any) -> None:
    """`container[key] op= value`, evaluating container and key once."""
    setitem(container, key, inplace(op, container[key], value))


def augment_attribute(obj: object, name: str, op: str, value: Any) -> None:
    """`obj.name op= value`, evaluating obj once (names were checked: none starts with '_')."""
    setattr(obj, name, inplace(op, getattr(obj, name), value))


# --- f-strings, str() ------------------------------------------------------------------------

_DIGITS = re.compile(r"\d+")
_CONVERSIONS: dict[int, Callable[[object], str]] = {115: str, 114: repr, 97: ascii}


def format_value(value: object, conversion: int, spec: str) -> str:
    """One `{value!conversion:spec}` field of an f-string. Every number in the format spec (width,
    precision; in a date format they are literal text) counts towards the result, as does the
    value's own text, before anything is formatted."""
    if conversion in _CONVERSIONS:
        if not (conversion == 115 and isinstance(value, str)):
            check_size(text_size(value, MAX_SEQUENCE), "f-string conversion", charged=False)
        value = _CONVERSIONS[conversion](value)
    if not spec:
        if not isinstance(value, str):
            length = text_size(value, MAX_SEQUENCE)
            check_size(length, "f-string", charged=length >= CHARGE_FROM)
        return format(value)
    numbers = 0
    for digits in _DIGITS.findall(spec):
        numbers += _number(digits)
    if isinstance(value, str):
        estimate = len(value) + numbers
    elif isinstance(value, (int, float, decimal.Decimal)):
        estimate = text_size(value, MAX_SEQUENCE) * 2 + numbers  # digits, grouping, width, precision
    else:
        estimate = text_size(value, MAX_SEQUENCE) + numbers + 16 * len(spec)  # a date's strftime
    check_size(estimate, "f-string formatting", value if isinstance(value, str) else spec, (spec,))
    return format(value, spec)


def join_fstring(parts: Sequence[str]) -> str:
    """The pieces of an f-string (literal text and formatted fields), joined once their total
    length is checked."""
    length = sum(map(len, parts))
    check_size(length, "f-string", "\u0100" if not all(map(str.isascii, parts)) else "", charged=length >= CHARGE_FROM)
    return "".join(parts)


class _ScriptStrType(type):
    """`str` as process scripts see it: isinstance and the class's methods are str's; calling it on
    a container first checks the size of the text it would build (shared references repeat)."""

    def __instancecheck__(cls, value: object) -> bool:
        return isinstance(value, str)

    def __subclasscheck__(cls, klass: type) -> bool:
        return issubclass(klass, str)

    def __call__(cls, *args: Any, **kwargs: Any) -> str:
        if len(args) == 1 and not kwargs and not isinstance(args[0], str):
            length = text_size(args[0], MAX_SEQUENCE)
            check_size(length, "str()", charged=length >= CHARGE_FROM)
        return str(*args, **kwargs)

    def __getattr__(cls, name: str) -> Any:
        return getattr(str, name)


class ScriptStr(metaclass=_ScriptStrType):
    """The `str` builtin of process scripts (see _ScriptStrType)."""


# --- methods ---------------------------------------------------------------------------------


def _what(self: object, name: str) -> str:
    return f"{type(self).__name__}.{name}()"


def _padding(name: str) -> Callable[..., Any]:
    def bounded(self: _Text, width: SupportsIndex, *args: Any) -> _Text:
        if isinstance(width, int):
            check_size(max(len(self), width), _what(self, name), self, args)
        padded: _Text = getattr(self, name)(width, *args)
        return padded

    return bounded


def _expandtabs(self: _Text, tabsize: SupportsIndex = 8) -> _Text:
    columns = tabsize if isinstance(tabsize, int) else 8
    tabs = self.count("\t" if isinstance(self, str) else b"\t")
    check_size(len(self) + tabs * max(columns - 1, 0), _what(self, "expandtabs"), self)
    return self.expandtabs(tabsize)


def _replace(self: _Text, old: _Text, new: _Text, count: SupportsIndex = -1) -> _Text:
    occurrences = len(self) + 1 if len(old) == 0 else self.count(old)
    if isinstance(count, int) and count >= 0:
        occurrences = min(occurrences, count)
    check_size(len(self) + occurrences * (len(new) - len(old)), _what(self, "replace"), self, (new,))
    return self.replace(old, new, count)


def _join(self: _Text, iterable: Iterable[_Text]) -> _Text:
    items = iterable if isinstance(iterable, (list, tuple)) else list(iterable)
    try:
        length = sum(map(len, items)) + len(self) * max(len(items) - 1, 0)
        wide = isinstance(self, str) and not (self.isascii() and all(map(str.isascii, items)))
    except TypeError:
        return self.join(items)  # the error join gives for what it cannot join
    check_size(length, _what(self, "join"), "\u0100" if wide else self)
    return self.join(items)


def _translate(self: str, table: Mapping[int, str | int | None] | Sequence[str | int | None]) -> str:
    longest = ""
    values = table.values() if isinstance(table, dict) else table if isinstance(table, (list, tuple)) else ()
    for value in values:
        if isinstance(value, str) and len(value) > len(longest):
            longest = value
    check_size(len(self) * max(len(longest), 1), _what(self, "translate"), self, (longest,))
    return self.translate(table)


def _to_bytes(
    self: int, length: SupportsIndex = 1, byteorder: Literal["little", "big"] = "big", *, signed: bool = False
) -> bytes:
    if isinstance(length, int):
        check_size(length, "int.to_bytes()", b"")
    return self.to_bytes(length, byteorder, signed=signed)


def _extend(self: list[Any], iterable: Iterable[Any]) -> None:
    items = iterable if isinstance(iterable, SIZED) else list(iterable)
    length = len(self) + len(items)
    check_size(length, "list.extend()", self, charged=length >= CHARGE_FROM)
    self.extend(items)


METHODS: dict[str, tuple[tuple[type, ...], Callable[..., Any]]] = {
    "ljust": (TEXT, _padding("ljust")),
    "rjust": (TEXT, _padding("rjust")),
    "center": (TEXT, _padding("center")),
    "zfill": (TEXT, _padding("zfill")),
    "expandtabs": (TEXT, _expandtabs),
    "replace": (TEXT, _replace),
    "join": (TEXT, _join),
    "translate": ((str,), _translate),
    "to_bytes": ((int,), _to_bytes),
    "extend": ((list,), _extend),
}


def _unbound(
    real: Callable[..., Any],
    bounded: Callable[..., Any],
    kinds: tuple[type, ...],
    self: object,
    *args: Any,
    **kwargs: Any,
) -> Any:
    if isinstance(self, kinds):
        return bounded(self, *args, **kwargs)
    return real(self, *args, **kwargs)  # the descriptor's own TypeError


def attribute(obj: object, name: str) -> Any:
    """`obj.name` for the method names in METHODS: the bounded method for a str, bytes, int or list
    (or, read from the class, `str.join` and the like, a function taking the instance first)."""
    real = getattr(obj, name)
    kinds, bounded = METHODS[name]
    if isinstance(obj, kinds):
        return functools.partial(bounded, obj)
    if obj is ScriptStr or (isinstance(obj, type) and obj in kinds):
        return functools.partial(_unbound, real, bounded, kinds)
    return real


# --- builtins --------------------------------------------------------------------------------


def script_sum(iterable: Iterable[Any], /, start: Any = 0) -> Any:
    """sum(); adding up lists or tuples is bounded and linear (the builtin copies at every step)."""
    if not isinstance(start, (list, tuple)):
        return sum(iterable, start)
    items = list(iterable)
    kind = type(start)
    for item in items:
        if type(item) is not kind:
            raise TypeError(f'can only concatenate {kind.__name__} (not "{type(item).__name__}") to {kind.__name__}')
    check_size(len(start) + sum(map(len, items)), "sum()", start)
    return kind(itertools.chain.from_iterable(itertools.chain((start,), items)))


def script_round(number: Any, ndigits: SupportsIndex | None = None) -> Any:
    """round(); rounding an integer to a huge negative number of digits is 0 without computing 10**n."""
    if ndigits is None:
        return round(number)
    if isinstance(number, int) and isinstance(ndigits, int) and -ndigits > number.bit_length() // 3 + 1:
        return 0
    return round(number, ndigits)


def script_prod(iterable: Iterable[Any], /, *, start: Any = 1) -> Any:
    """math.prod(), one bounded multiplication at a time (it also multiplies sequences)."""
    result = start
    for value in iterable:
        result = mul(result, value)
    return result


def unpacked(value: _T) -> _T:
    """A list, tuple or set display with `*` parts (`[*x, *x]`): its size is checked and counted once
    built. Each part is an existing value, so one display is at most a few times MAX_SEQUENCE; the
    check stops a loop that doubles it."""
    check_size(len(value), "unpacking into a new list, tuple or set")  # type: ignore[arg-type]
    return value


def item(value: _T) -> _T:
    """A comprehension's element: counted against MAX_SCRIPT_MEMORY (its slot, and its own size for
    strings, bytes and containers) as it is produced."""
    charge(8 + (sys.getsizeof(value) if isinstance(value, _MEASURED) else 0), "a comprehension")
    return value


# --- what leaves the sandbox -----------------------------------------------------------------

_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = 200


def bound_exception(exc: BaseException | None) -> None:
    """Shorten the arguments of an exception a script raised when their text would exceed
    MAX_MESSAGE_CHARS (its message is rendered outside the sandbox, in error reports)."""
    for _ in range(10):
        if exc is None:
            return
        if text_size(exc.args, MAX_MESSAGE_CHARS) > MAX_MESSAGE_CHARS:
            exc.args = (_SHORT.repr(exc.args),)
        exc = exc.__cause__ or exc.__context__


def check_data(value: object, what: str) -> None:
    """Refuse task data or an expression's value whose text would exceed MAX_DATA_CHARS."""
    if text_size(value, MAX_DATA_CHARS) > MAX_DATA_CHARS:
        raise ScriptError(
            f"{what} would take more than {MAX_DATA_CHARS:,} characters as text; process data may hold at "
            "most that (MAX_DATA_CHARS)"
        )
