"""CloudWatch Logs filter patterns: terms, phrases, alternatives, exclusions, regexes and JSON patterns."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lambdabench.emulator.filter_pattern import InvalidFilterPattern, compile_pattern

REPORT = "REPORT RequestId: 8f5c\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 70 MB\t"
START = "START RequestId: 8f5c Version: $LATEST"
PLATFORM_REPORT = json.dumps(
    {
        "time": "2026-11-27T05:00:00.000Z",
        "type": "platform.report",
        "record": {
            "requestId": "8f5c",
            "metrics": {"durationMs": 123.4, "billedDurationMs": 124, "memorySizeMB": 128, "maxMemoryUsedMB": 70},
            "status": "success",
            "tags": ["cold", "x86"],
            "error": None,
            "ok": True,
        },
    }
)
PLATFORM_START = json.dumps({"time": "2026-11-27T05:00:00.000Z", "type": "platform.start", "record": {"requestId": "8f5c", "version": "$LATEST"}})


def matches(pattern: str, message: str) -> bool:
    return compile_pattern(pattern)(message)


@pytest.mark.parametrize("pattern", ["", "   "])
def test_empty_pattern_matches_every_event(pattern):
    assert matches(pattern, REPORT) and matches(pattern, PLATFORM_START)


def test_every_term_must_appear_case_sensitive():
    assert matches("REPORT Duration", REPORT)
    assert not matches("REPORT Timeout", REPORT)
    assert not matches("report", REPORT)


def test_quoted_phrase_matches_exact_text_with_spaces():
    assert matches('"REPORT RequestId: 8f5c"', REPORT)
    assert not matches('"REPORT RequestId: 0000"', REPORT)
    assert matches(r'"say \"hi\""', 'they say "hi" here')


def test_question_mark_terms_are_alternatives():
    assert matches("?START ?REPORT", REPORT)
    assert matches("?START ?REPORT", START)
    assert not matches("?END ?INIT_START", REPORT)


def test_plain_terms_still_required_next_to_alternatives():
    assert matches("RequestId ?START ?END", START)
    assert not matches("Version ?REPORT ?END", START)


def test_minus_term_excludes_events():
    assert matches("RequestId -REPORT", START)
    assert not matches("RequestId -REPORT", REPORT)
    assert not matches('-"Billed Duration"', REPORT)


def test_regex_between_percent_signs():
    assert matches(r"%Duration: 1[0-9]\.\d+ ms%", REPORT)
    assert not matches(r"%Duration: 9\d\.%", REPORT)


def test_unquoted_term_with_special_characters_is_rejected_like_aws():
    with pytest.raises(InvalidFilterPattern, match=r"Invalid character\(s\) in term 'user@example.com'"):
        compile_pattern("user@example.com")


@pytest.mark.parametrize(
    "pattern",
    ['"unterminated', "%unterminated", "%[%", "[ip, user]", "%(a|b)%", "%wow!%", "%é%"],
)
def test_malformed_unstructured_patterns_are_rejected(pattern):
    with pytest.raises(InvalidFilterPattern):
        compile_pattern(pattern)


def test_json_equality_on_platform_report():
    pattern = '{ $.type = "platform.report" }'
    assert matches(pattern, PLATFORM_REPORT)
    assert not matches(pattern, PLATFORM_START)


def test_json_pattern_never_matches_a_text_line():
    assert not matches('{ $.type = "platform.report" }', REPORT)
    assert not matches("{ $.type NOT EXISTS }", REPORT)
    assert not matches("{ $.type NOT EXISTS }", "{not json")


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("{ $.record.metrics.durationMs > 100 }", True),
        ("{ $.record.metrics.durationMs > 123.4 }", False),
        ("{ $.record.metrics.durationMs >= 123.4 }", True),
        ("{ $.record.metrics.durationMs < 200 }", True),
        ("{ $.record.metrics.durationMs <= 123 }", False),
        ("{ $.record.metrics.memorySizeMB = 128 }", True),
        ("{ $.record.metrics.memorySizeMB != 128 }", False),
        ("{ $.record.metrics.maxMemoryUsedMB != 128 }", True),
        ("{ $.record.metrics.initDurationMs > 0 }", False),  # missing field: comparison is false
        ("{ $.record.metrics.initDurationMs != 5 }", False),
    ],
)
def test_json_numeric_comparisons(pattern, expected):
    assert matches(pattern, PLATFORM_REPORT) is expected


def test_json_string_wildcard_and_bare_values():
    assert matches('{ $.type = "platform.*" }', PLATFORM_REPORT)
    assert matches("{ $.type = platform.rep* }", PLATFORM_REPORT)
    assert matches('{ $.type != "platform.st*" }', PLATFORM_REPORT)
    assert not matches('{ $.type != "platform.*" }', PLATFORM_REPORT)
    assert not matches('{ $.type = "platform" }', PLATFORM_REPORT)


def test_json_and_or_with_and_binding_tighter_and_parentheses():
    both = '{ $.type = "platform.report" && $.record.metrics.durationMs > 1000 }'
    assert not matches(both, PLATFORM_REPORT)
    either = '{ $.type = "platform.start" || $.record.metrics.durationMs > 100 }'
    assert matches(either, PLATFORM_REPORT)
    # a || b && c  ==  a || (b && c): true through a alone
    precedence = '{ $.type = "platform.report" || $.x = 1 && $.y = 2 }'
    assert matches(precedence, PLATFORM_REPORT)
    grouped = '{ ($.type = "platform.report" || $.x = 1) && $.y = 2 }'
    assert not matches(grouped, PLATFORM_REPORT)


def test_json_exists_not_exists_and_is_keywords():
    assert matches("{ $.record.metrics EXISTS }", PLATFORM_REPORT)
    assert matches("{ $.record.metrics.initDurationMs NOT EXISTS }", PLATFORM_REPORT)
    assert not matches("{ $.record.metrics.durationMs NOT EXISTS }", PLATFORM_REPORT)
    assert matches("{ $.record.error IS NULL }", PLATFORM_REPORT)
    assert matches("{ $.record.ok IS TRUE }", PLATFORM_REPORT)
    assert not matches("{ $.record.ok IS FALSE }", PLATFORM_REPORT)


def test_json_array_index_and_any_element():
    assert matches('{ $.record.tags[0] = "cold" }', PLATFORM_REPORT)
    assert not matches('{ $.record.tags[1] = "cold" }', PLATFORM_REPORT)
    assert matches('{ $.record.tags[*] = "x86" }', PLATFORM_REPORT)
    assert not matches('{ $.record.tags[5] EXISTS }', PLATFORM_REPORT)


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ('{ $.type = "x"', "If a filter pattern starts with '{' it must end with '}'"),
        ("{ }", "empty JSON expression"),
        ("{ $.a = }", "ends too early"),
        ('{ $.a > "text" }', "needs a number"),
        ("{ $.a > abc }", "needs a number"),
        ("{ ($.a = 1 }", "missing"),
        ("{ $.a = 1 $.b = 2 }", "unexpected"),
        ("{ type = 1 }", "expected a selector"),
        ("{ $.a IS MAYBE }", "TRUE, FALSE or NULL"),
        ("{ $.a NOT THERE }", "EXISTS after NOT"),
    ],
)
def test_malformed_json_patterns_name_the_problem(pattern, message):
    with pytest.raises(InvalidFilterPattern, match=message.replace("(", r"\(").replace("{", r"\{")):
        compile_pattern(pattern)


@given(word=st.text(alphabet="abcXYZ019_.-", min_size=1, max_size=6), message=st.text(alphabet="abcXYZ019_.- ", max_size=30))
def test_a_bare_term_matches_exactly_when_it_is_a_substring(word, message):
    if word.startswith(("-", "?")):
        word = "w" + word
    assert matches(word, message) is (word in message)
