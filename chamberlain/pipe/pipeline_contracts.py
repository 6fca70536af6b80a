"""Evaluating pipeline contracts without `eval`.

A contract is a Python expression over task configs, e.g.
``getTemplate.template_border_size >= calibrate.border``. Rubin's pipelines
`eval` it; here it is parsed with `ast` and walked by a small interpreter that
allows only: literals (numbers, strings, None, True/False, tuples, lists, sets,
dicts), task labels, attribute access on configs (their declared fields only,
never ``_private`` or dunder names; Rubin's camelCase spelling of a field is
accepted), subscripts of the values read, unary and
binary arithmetic (``+ - * / // %``; ``**`` with an exponent up to 64; no
result beyond 100,000 bits or a repeated sequence beyond 1,000,000 items),
comparisons (``== != < <= > >= in not in is is not``), ``and``/``or``/``not``,
conditional expressions, and calls of ``abs all any len max min round set
sorted sum``. Anything else (lambdas, comprehensions, other calls, names that
are not labels) is refused in one line naming the construct.
"""

from __future__ import annotations

import ast
import builtins
import operator
from collections.abc import Callable, Mapping
from typing import Any

from chamberlain.errors import format_choices

from .config import Config, ConfigHolder
from .pipeline_file import CONTRACT_FUNCTIONS, PipelineError, field_name

__all__ = ["evaluate_contract"]

_FUNCTIONS: dict[str, Callable[..., Any]] = {name: getattr(builtins, name) for name in CONTRACT_FUNCTIONS}
_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
    ast.Not: operator.not_,
}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}
_MAX_EXPONENT = 64
_MAX_BITS = 100_000
_MAX_LENGTH = 1_000_000


class _Unsupported(Exception):
    pass


def evaluate_contract(expression: str, configs: Mapping[str, Config]) -> bool:
    """Evaluate a contract expression against the configs of a pipeline's tasks.

    Parameters
    ----------
    expression : `str`
        The contract (see the module documentation for what it may contain).
    configs : `~collections.abc.Mapping` [`str`, `Config`]
        Task label -> its config.

    Returns
    -------
    holds : `bool`
        The truth value of the expression.

    Raises
    ------
    PipelineError
        If the expression uses something not supported, names an unknown
        label or field, or fails while evaluating (e.g. a type error).
    """
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as err:
        raise PipelineError(f"Contract {expression!r} is not an expression: {err.msg}.") from None
    except (RecursionError, MemoryError):
        raise PipelineError(f"Contract {expression[:40]!r}... is nested too deeply.") from None
    try:
        return bool(_Evaluator(configs).visit(tree.body))
    except _Unsupported as err:
        raise PipelineError(f"Contract {expression!r}: {err}") from None
    except PipelineError:
        raise
    except Exception as err:
        raise PipelineError(f"Contract {expression!r} failed: {type(err).__name__}: {err}.") from None


class _Evaluator:
    def __init__(self, configs: Mapping[str, Config]) -> None:
        self.configs = configs

    def visit(self, node: ast.AST) -> Any:
        method = getattr(self, f"visit_{type(node).__name__}", None)
        if method is None:
            raise _Unsupported(f"{type(node).__name__} expressions are not supported in contracts.")
        return method(node)

    def visit_Constant(self, node: ast.Constant) -> Any:
        return node.value

    def visit_Name(self, node: ast.Name) -> Any:
        if node.id not in self.configs:
            raise _Unsupported(
                f"name {node.id!r} is not a task label; labels: {format_choices(self.configs)}."
            )
        return self.configs[node.id]

    def visit_Attribute(self, node: ast.Attribute) -> Any:
        value = self.visit(node.value)
        if isinstance(value, ConfigHolder):
            value = value._selected()
        if not isinstance(value, Config):
            raise _Unsupported(
                f"attribute {node.attr!r} is read from a {type(value).__name__}, not a config."
            )
        name = field_name(value, node.attr)
        if name is None:
            fields = type(value).model_fields
            raise _Unsupported(
                f"{type(value).__name__} has no field {node.attr!r}; fields: {format_choices(fields)}."
            )
        return getattr(value, name)

    def visit_Subscript(self, node: ast.Subscript) -> Any:
        value = self.visit(node.value)
        if not isinstance(value, list | tuple | dict | str):
            raise _Unsupported(
                f"subscripts apply to lists, tuples, dicts and strings, not {type(value).__name__}."
            )
        return value[self.visit(node.slice)]

    def visit_Tuple(self, node: ast.Tuple) -> Any:
        return tuple(self.visit(e) for e in node.elts)

    def visit_List(self, node: ast.List) -> Any:
        return [self.visit(e) for e in node.elts]

    def visit_Set(self, node: ast.Set) -> Any:
        return {self.visit(e) for e in node.elts}

    def visit_Dict(self, node: ast.Dict) -> Any:
        if any(k is None for k in node.keys):
            raise _Unsupported("'**' in a dict is not supported in contracts.")
        return {self.visit(k): self.visit(v) for k, v in zip(node.keys, node.values) if k is not None}

    def visit_BoolOp(self, node: ast.BoolOp) -> Any:
        result: Any = None
        for value_node in node.values:
            result = self.visit(value_node)
            if isinstance(node.op, ast.And) and not result:
                return result
            if isinstance(node.op, ast.Or) and result:
                return result
        return result

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Any:
        op = _UNARY.get(type(node.op))
        if op is None:
            raise _Unsupported(f"operator {type(node.op).__name__} is not supported in contracts.")
        return op(self.visit(node.operand))

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        op = _BINARY.get(type(node.op))
        if op is None:
            raise _Unsupported(f"operator {type(node.op).__name__} is not supported in contracts.")
        left, right = self.visit(node.left), self.visit(node.right)
        if isinstance(node.op, ast.Pow) and isinstance(right, int | float):
            if abs(right) > _MAX_EXPONENT:
                raise _Unsupported(f"exponent {right!r} is larger than {_MAX_EXPONENT}.")
            if isinstance(left, int) and left.bit_length() * abs(right) > _MAX_BITS:
                raise _Unsupported(f"the power has more than {_MAX_BITS} bits.")
        if isinstance(node.op, ast.Mult):
            for count, sequence in ((left, right), (right, left)):
                repeats = isinstance(count, int) and isinstance(sequence, str | list | tuple)
                if repeats and count * len(sequence) > _MAX_LENGTH:
                    raise _Unsupported(f"repeating a sequence to more than {_MAX_LENGTH} items.")
        return op(left, right)

    def visit_Compare(self, node: ast.Compare) -> Any:
        left = self.visit(node.left)
        for op_node, right_node in zip(node.ops, node.comparators):
            right = self.visit(right_node)
            if not _COMPARE[type(op_node)](left, right):
                return False
            left = right
        return True

    def visit_IfExp(self, node: ast.IfExp) -> Any:
        return self.visit(node.body) if self.visit(node.test) else self.visit(node.orelse)

    def visit_Call(self, node: ast.Call) -> Any:
        if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS:
            raise _Unsupported(f"only these functions may be called: {format_choices(_FUNCTIONS)}.")
        if node.keywords:
            raise _Unsupported("keyword arguments are not supported in contracts.")
        return _FUNCTIONS[node.func.id](*(self.visit(a) for a in node.args))
