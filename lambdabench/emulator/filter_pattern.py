"""CloudWatch Logs filter patterns (FilterLogEvents' `filterPattern`), compiled to a predicate.

`compile_pattern(text) -> Callable[[str], bool]`; an invalid pattern raises `InvalidFilterPattern`
(the Logs API answers it as InvalidParameterException, 400, with AWS's wording where AWS's is known).

Supported, after AWS's "Filter pattern syntax for metric filters, subscription filters, filter log
events" page (CloudWatch Logs User Guide):
- empty pattern: every event.
- terms, case sensitive, each must appear: `ERROR Exception`. A term with characters other than
  letters, digits and `_ . - : /` must be quoted, else "Invalid character(s) in term '<term>'".
- quoted phrases: `"REPORT RequestId: 8f5c"` (backslash escapes `\\"` and `\\\\`).
- alternatives: `?ERROR ?WARN` — at least one `?` term must appear (next to the plain terms, which all must).
- exclusion: `ERROR -Timeout` — no `-` term may appear.
- regular expressions between percent signs: `%Duration: [0-9]{3}%` (Python `re.search`), limited to
  the characters AWS allows there (no parentheses, no multi-byte characters).
- JSON patterns on messages that are JSON objects/arrays: `{ $.type = "platform.report" }`,
  `{ $.record.metrics.durationMs > 100 }`, `=`, `!=`, `<`, `>`, `<=`, `>=`; strings quoted or bare,
  with `*` as a wildcard (`{ $.ip != 10.0.* }`); numbers compare numerically; `&&`, `||` (`&&` binds
  tighter), parentheses; `IS TRUE`, `IS FALSE`, `IS NULL`, `EXISTS`, `NOT EXISTS`; array indexes
  `$.a[0]` and `$.a[*]` (any element). A message that is not JSON never matches a JSON pattern; a
  comparison on a missing field is false (use NOT EXISTS for absence).
Not supported (rejected with a message saying so, never silently ignored): space-delimited patterns
`[ip, user, ...]`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

Predicate = Callable[[str], bool]

# Characters a bare term may hold; anything else must be quoted (AWS answers
# "Invalid character(s) in term" for, e.g., an unquoted e-mail address).
_BARE_TERM = re.compile(r"^[A-Za-z0-9_.\-:/]+$")


# What AWS lets a %regex% hold ("Supported regular expressions syntax"): alphanumerics, the symbols
# _ # = @ / ; , - (and :), the operators ^ $ ? [ ] { } | \ * + . — no parentheses, no multi-byte
# characters. Spaces are allowed here so phrases can be matched.
_REGEX_CHAR = re.compile(r"[A-Za-z0-9 _#=@/;,\-:^$?\[\]{}|\\*+.]")


class InvalidFilterPattern(ValueError):
    """The filter pattern cannot be parsed; str() is the API's message."""


def compile_pattern(pattern: str) -> Predicate:
    text = pattern.strip()
    if not text:
        return lambda message: True
    if text.startswith("{"):
        if not text.endswith("}"):
            raise InvalidFilterPattern("If a filter pattern starts with '{' it must end with '}'")
        return _compile_json(text[1:-1])
    if text.startswith("["):
        raise InvalidFilterPattern(
            "Invalid filter pattern: space-delimited patterns ([field, ...]) are not supported by the "
            "lambdabench emulator; use terms, quoted phrases or a JSON pattern"
        )
    return _compile_terms(text)


# ----- unstructured terms ------------------------------------------------------------------------
def _read_quoted(text: str, i: int) -> tuple[str, int]:
    """text[i] is the opening quote; returns (content, index after the closing quote)."""
    out = []
    i += 1
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if c == '"':
            return "".join(out), i + 1
        out.append(c)
        i += 1
    raise InvalidFilterPattern("Invalid filter pattern: unterminated quoted term")


def _compile_terms(text: str) -> Predicate:
    required: list[Predicate] = []
    optional: list[Predicate] = []
    excluded: list[Predicate] = []
    i = 0
    n = len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        bucket = required
        if text[i] in "?-" and i + 1 < n and not text[i + 1].isspace():
            bucket = optional if text[i] == "?" else excluded
            i += 1
        if text[i] == '"':
            phrase, i = _read_quoted(text, i)
            if i < n and not text[i].isspace():
                raise InvalidFilterPattern(f"Invalid filter pattern: expected a space after \"{phrase}\"")
            bucket.append(_substring(phrase))
            continue
        if text[i] == "%":
            end = text.find("%", i + 1)
            if end < 0:
                raise InvalidFilterPattern("Invalid filter pattern: regular expression without closing %")
            source = text[i + 1 : end]
            bad = sorted({c for c in source if not _REGEX_CHAR.match(c)})
            if bad:
                raise InvalidFilterPattern(
                    f"Invalid filter pattern: the regular expression %{source}% uses {', '.join(repr(c) for c in bad)}; "
                    "CloudWatch Logs regexes allow letters, digits, spaces, _ # = @ / ; , - : and the operators "
                    "^ $ ? [ ] { } | \\ * + . (no parentheses)"
                )
            try:
                regex = re.compile(source)
            except re.error as exc:
                raise InvalidFilterPattern(f"Invalid filter pattern: bad regular expression %{source}%: {exc}") from None
            bucket.append(lambda message, _r=regex: _r.search(message) is not None)
            i = end + 1
            continue
        start = i
        while i < n and not text[i].isspace():
            i += 1
        term = text[start:i]
        if not _BARE_TERM.match(term):
            raise InvalidFilterPattern(f"Invalid character(s) in term '{term}'")
        bucket.append(_substring(term))

    if len(required) == 1 and not optional and not excluded:
        return required[0]  # the common case (one term or phrase): no wrapper per event

    def match(message: str) -> bool:
        for p in excluded:
            if p(message):
                return False
        for p in required:
            if not p(message):
                return False
        return not optional or any(p(message) for p in optional)

    return match


def _substring(term: str) -> Predicate:
    return lambda message: term in message


# ----- JSON patterns -----------------------------------------------------------------------------
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<op>&&|\|\||!=|<=|>=|=|<|>|\(|\))
      | (?P<sel>\$(?:\.[A-Za-z0-9_@\-]+|\[(?:\d+|\*)\])*)
      | (?P<str>"(?:[^"\\]|\\.)*")
      | (?P<word>[^\s()&|=!<>"]+)
    )""",
    re.VERBOSE,
)

_MISSING = object()


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens = []
    i = 0
    text = text.rstrip()
    while i < len(text):
        m = _TOKEN.match(text, i)
        if not m or m.end() == i:
            raise InvalidFilterPattern(f"Invalid filter pattern: unexpected character at '{text[i:].strip()[:20]}'")
        kind = m.lastgroup or ""
        tokens.append((kind, m.group(kind)))
        i = m.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]):
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise InvalidFilterPattern("Invalid filter pattern: the JSON expression ends too early")
        self.pos += 1
        return tok

    def parse(self) -> Callable[[Any], bool]:
        if not self.tokens:
            raise InvalidFilterPattern("Invalid filter pattern: empty JSON expression")
        expr = self.parse_or()
        if self.peek() is not None:
            raise InvalidFilterPattern(f"Invalid filter pattern: unexpected '{self.peek()[1]}'")
        return expr

    def parse_or(self) -> Callable[[Any], bool]:
        parts = [self.parse_and()]
        while self.peek() == ("op", "||"):
            self.take()
            parts.append(self.parse_and())
        return parts[0] if len(parts) == 1 else (lambda doc: any(p(doc) for p in parts))

    def parse_and(self) -> Callable[[Any], bool]:
        parts = [self.parse_unary()]
        while self.peek() == ("op", "&&"):
            self.take()
            parts.append(self.parse_unary())
        return parts[0] if len(parts) == 1 else (lambda doc: all(p(doc) for p in parts))

    def parse_unary(self) -> Callable[[Any], bool]:
        kind, value = self.take()
        if (kind, value) == ("op", "("):
            inner = self.parse_or()
            if self.peek() != ("op", ")"):
                raise InvalidFilterPattern("Invalid filter pattern: missing ')'")
            self.take()
            return inner
        if kind != "sel":
            raise InvalidFilterPattern(f"Invalid filter pattern: expected a selector like $.field, got '{value}'")
        path = _parse_selector(value)
        kind2, op = self.take()
        if kind2 == "word" and op in ("IS", "NOT", "EXISTS"):
            return self._keyword(path, op)
        if kind2 != "op" or op not in ("=", "!=", "<", ">", "<=", ">="):
            raise InvalidFilterPattern(f"Invalid filter pattern: expected a comparison after {value}, got '{op}'")
        vkind, raw = self.take()
        if vkind == "str":
            return _string_compare(path, op, json.loads(raw))
        if vkind != "word":
            raise InvalidFilterPattern(f"Invalid filter pattern: expected a value after {value} {op}")
        number = _as_number(raw)
        if number is not None:
            return _number_compare(path, op, number)
        if op not in ("=", "!="):
            raise InvalidFilterPattern(f"Invalid filter pattern: '{op}' needs a number, got '{raw}'")
        return _string_compare(path, op, raw)

    def _keyword(self, path: list, word: str) -> Callable[[Any], bool]:
        if word == "EXISTS":
            return lambda doc: any(v is not _MISSING for v in _select(doc, path))
        if word == "NOT":
            if self.take() != ("word", "EXISTS"):
                raise InvalidFilterPattern("Invalid filter pattern: expected EXISTS after NOT")
            return lambda doc: all(v is _MISSING for v in _select(doc, path))
        kind, what = self.take()
        if what == "TRUE":
            return lambda doc: any(v is True for v in _select(doc, path))
        if what == "FALSE":
            return lambda doc: any(v is False for v in _select(doc, path))
        if what == "NULL":
            return lambda doc: any(v is None for v in _select(doc, path))
        raise InvalidFilterPattern(f"Invalid filter pattern: expected TRUE, FALSE or NULL after IS, got '{what}'")


def _parse_selector(text: str) -> list:
    path: list = []
    for m in re.finditer(r"\.([A-Za-z0-9_@\-]+)|\[(\d+|\*)\]", text[1:]):
        if m.group(1) is not None:
            path.append(m.group(1))
        else:
            path.append(None if m.group(2) == "*" else int(m.group(2)))
    return path


def _select(doc: Any, path: list) -> list:
    """Every value the path reaches (several when it crosses `[*]`); [_MISSING] when none."""
    current = [doc]
    for step in path:
        nxt = []
        for value in current:
            if step is None:
                if isinstance(value, list):
                    nxt.extend(value)
            elif isinstance(step, int):
                if isinstance(value, list) and 0 <= step < len(value):
                    nxt.append(value[step])
            elif isinstance(value, dict) and step in value:
                nxt.append(value[step])
        current = nxt
        if not current:
            return [_MISSING]
    return current


def _as_number(raw: str) -> float | None:
    try:
        return float(raw) if re.fullmatch(r"-?\d+(\.\d+)?([eE][+-]?\d+)?", raw) else None
    except ValueError:
        return None


_NUMBER_OPS: dict[str, Callable[[float, float], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
}


def _number_compare(path: list, op: str, number: float) -> Callable[[Any], bool]:
    compare = _NUMBER_OPS[op]

    def match(doc: Any) -> bool:
        for v in _select(doc, path):
            if isinstance(v, (int, float)) and not isinstance(v, bool) and compare(v, number):
                return True
        return False

    return match


def _string_compare(path: list, op: str, expected: str) -> Callable[[Any], bool]:
    if op not in ("=", "!="):
        raise InvalidFilterPattern(f"Invalid filter pattern: '{op}' needs a number, got \"{expected}\"")
    if "*" in expected:
        regex = re.compile("^" + ".*".join(re.escape(part) for part in expected.split("*")) + "$", re.S)
        equal: Callable[[str], bool] = lambda s: regex.match(s) is not None
    else:
        equal = lambda s: s == expected
    want = op == "="

    def match(doc: Any) -> bool:
        for v in _select(doc, path):
            if v is _MISSING or isinstance(v, (dict, list)) or v is None:
                continue
            # A number or boolean field compares by its JSON text, e.g. { $.code = 2* } on 200.
            text = v if isinstance(v, str) else json.dumps(v)
            if equal(text) == want:
                return True
        return False

    return match


def _compile_json(body: str) -> Predicate:
    tree = _Parser(_tokenize(body)).parse()

    def match(message: str) -> bool:
        stripped = message.lstrip()
        if not stripped or stripped[0] not in "{[":
            return False
        try:
            doc = json.loads(message)
        except ValueError:
            return False
        return tree(doc)

    return match
