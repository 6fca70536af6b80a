"""The lark LALR grammar of the `where` expression language.

Kept as a Python string (not a ``.lark`` data file) so it ships with the
package without package-data configuration.

Precedence, lowest first: ``OR``, ``AND``, ``NOT``, ``OVERLAPS``, ``= !=``,
``< <= > >=``, ``IN``/``IS``, ``+ -``, ``* / %``, unary ``+ -``. ``OVERLAPS`` and
the comparisons are non-associative (``a = b = c`` is a syntax error). ``OR`` and
``AND`` chains are repetitions (one callback with every operand), not left
recursion, so the parser builds one flat node for a chain of any length.
"""

from __future__ import annotations

__all__ = ["GRAMMAR"]

GRAMMAR = r"""
?start: or_expr

?or_expr: and_expr
        | and_expr (OR and_expr)+               -> logical
?and_expr: not_expr
         | not_expr (AND not_expr)+             -> logical
?not_expr: overlaps_expr
         | NOT not_expr                         -> not_op
?overlaps_expr: eq_expr
              | eq_expr OVERLAPS eq_expr        -> binary_keyword
?eq_expr: rel_expr
        | rel_expr EQ_OP rel_expr               -> binary
?rel_expr: predicate
         | predicate REL_OP predicate           -> binary
?predicate: add_expr
          | add_expr IN LPAR items RPAR         -> in_list
          | add_expr NOT IN LPAR items RPAR     -> not_in_list
          | add_expr IN BIND                    -> in_list
          | add_expr NOT IN BIND                -> not_in_list
          | add_expr IS NULL                    -> is_null
          | add_expr IS NOT NULL                -> is_not_null
?add_expr: mul_expr
         | add_expr ADD_OP mul_expr             -> binary
?mul_expr: unary
         | mul_expr MUL_OP unary                -> binary
?unary: atom
      | ADD_OP unary                            -> unary_op
?atom: INT                                      -> int_literal
     | FLOAT                                    -> float_literal
     | STRING                                   -> string_literal
     | TIME                                     -> time_literal
     | NULL                                     -> null_literal
     | TRUE                                     -> bool_literal
     | FALSE                                    -> bool_literal
     | IDENT                                    -> identifier
     | BIND                                     -> bind
     | IDENT LPAR [args] RPAR                   -> call
     | LPAR or_expr RPAR                        -> paren
     | LPAR or_expr "," or_expr RPAR            -> tuple_literal

items: item ("," item)*
?item: add_expr
     | add_expr ".." add_expr [":" add_expr]    -> range_literal
args: or_expr ("," or_expr)*

LPAR: "("
RPAR: ")"
OR: "or"i
AND: "and"i
NOT: "not"i
OVERLAPS: "overlaps"i
IN: "in"i
IS: "is"i
NULL: "null"i
TRUE: "true"i
FALSE: "false"i

IDENT: /[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*){0,2}/i
BIND: /:[a-z_][a-z0-9_]*/i
TIME.3: /[Tt]'[^']*'|[Tt]"[^"]*"/
STRING: /'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*"/s
FLOAT.2: /\d+\.(?!\.)\d*(?:e[-+]?\d+)?|\.\d+(?:e[-+]?\d+)?|\d+e[-+]?\d+/i
INT: /\d+/
EQ_OP: /==|=|!=|<>/
REL_OP: /<=|>=|<(?!>)|>/
ADD_OP: /[-+]/
MUL_OP: /[*\/%]/

%ignore /\s+/
"""
