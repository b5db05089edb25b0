"""Contributor Insights rules held to CloudWatch's documentation: filters ANDed, the top-N limit,
ties, LogGroupNames, events lacking a key.

Sources: User Guide, "Contributor Insights rule syntax"
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/ContributorInsights-RuleSyntax.html,
awsdocs/amazon-cloudwatch-user-guide doc_source/ContributorInsights-RuleSyntax.md), and the API
reference of GetInsightRuleReport (MaxContributorCount). Expected values are worked by hand
or computed by the small references written here from those sentences.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from local_run.cloudwatch.contributor_insights import Contributor, Rule, top_contributors

GROUP = "Log-group-name2"


def rule(
    keys: list[str],
    filters: list[dict[str, Any]] | None = None,
    groups: list[str] | None = None,
) -> Rule:
    contribution: dict[str, Any] = {"Keys": keys}
    if filters:
        contribution["Filters"] = filters
    return Rule.from_json(
        "test",
        {
            "Schema": {"Name": "CloudWatchLogRule", "Version": 1},
            "LogGroupNames": groups or [GROUP],
            "LogFormat": "JSON",
            "Contribution": contribution,
            "AggregateOn": "Count",
        },
    )


def counts(r: Rule, events: list[dict[str, Any]], group: str = GROUP) -> dict[str, float]:
    """First key's value -> count, over every contributor (limit above their number)."""
    found = top_contributors(r, [(group, e) for e in events], limit=10_000)
    return {c.keys[0]: c.value for c in found}


# -- Filters: ANDed ------------------------------------------------------------------------------

# The page's filter examples, each with the predicate it states.
FILTERS: list[tuple[dict[str, Any], Callable[[Mapping[str, Any]], bool]]] = [
    ({"Match": "$.httpMethod", "In": ["PUT"]}, lambda e: e["httpMethod"] == "PUT"),
    ({"Match": "$.StatusCode", "EqualTo": 200}, lambda e: e["StatusCode"] == 200),
    ({"Match": "$.BytesReceived", "GreaterThan": 10000}, lambda e: e["BytesReceived"] > 10000),
    (
        {"Match": "$.eventSource", "StartsWith": ["ec2", "ecs"]},
        lambda e: e["eventSource"].startswith(("ec2", "ecs")),
    ),
]


def test_an_event_matching_only_some_filters_does_not_count() -> None:
    """Rule syntax, Filters: "If you specify multiple filters, Contributor Insights evaluates them
    with a logical AND operator." With `httpMethod In [PUT]` and `StatusCode EqualTo 200`, only PUT
    with 200 counts: PUT with 404 and GET with 200 match one filter each."""
    r = rule(["$.ip"], [FILTERS[0][0], FILTERS[1][0]])
    events = [
        {"ip": "1.1.1.1", "httpMethod": "PUT", "StatusCode": 200},
        {"ip": "2.2.2.2", "httpMethod": "PUT", "StatusCode": 404},
        {"ip": "3.3.3.3", "httpMethod": "GET", "StatusCode": 200},
        {"ip": "1.1.1.1", "httpMethod": "PUT", "StatusCode": 200},
    ]
    assert counts(r, events) == {"1.1.1.1": 2}


events_for_filters = st.lists(
    st.fixed_dictionaries(
        {
            "k": st.sampled_from("abc"),
            "httpMethod": st.sampled_from(["PUT", "GET", "put"]),
            "StatusCode": st.sampled_from([200, 404, 500]),
            "BytesReceived": st.sampled_from([0, 10000, 10001, 50000]),
            "eventSource": st.sampled_from(["ec2.amazonaws.com", "ecs.amazonaws.com", "s3", "EC2"]),
        }
    ),
    max_size=30,
)


@given(
    chosen=st.lists(st.sampled_from(range(len(FILTERS))), min_size=1, max_size=4, unique=True),
    events=events_for_filters,
)
def test_filters_are_anded(chosen: list[int], events: list[dict[str, Any]]) -> None:
    """Any 1 to 4 of the page's filter examples, in any order ("an array of as many as four
    filters ... evaluates them with a logical AND operator"): a contributor's count is the
    number of its events matching every filter (matching is case sensitive: "All matching of
    rules to log event field names and values is case sensitive")."""
    r = rule(["$.k"], [FILTERS[i][0] for i in chosen])
    expected = Counter(e["k"] for e in events if all(FILTERS[i][1](e) for i in chosen))
    assert counts(r, events) == {k: float(n) for k, n in expected.items()}


@given(values=st.lists(st.sampled_from(["PUT", "GET", "POST", "DELETE", "put"]), max_size=20))
def test_the_strings_of_one_filter_are_ored(values: list[str]) -> None:
    """Rule syntax, Filters: "If the operator field is `In`, `NotIn`, or `StartsWith`, it is
    followed by an array of string values to check for. Contributor Insights evaluates the array of
    string values with an OR operator"."""
    r = rule(["$.k"], [{"Match": "$.m", "In": ["PUT", "POST"]}])
    events = [{"k": "x", "m": v} for v in values]
    n = sum(v in ("PUT", "POST") for v in values)
    assert counts(r, events) == ({"x": float(n)} if n else {})


# -- the top-N limit and ties --------------------------------------------------------------------


def ladder(n: int) -> list[tuple[str, dict[str, Any]]]:
    """Contributor c01 with 1 event, c02 with 2, ... c{n} with n."""
    return [(GROUP, {"k": f"c{i:02}"}) for i in range(1, n + 1) for _ in range(i)]


def test_at_most_ten_contributors_by_default() -> None:
    """GetInsightRuleReport, MaxContributorCount: "The maximum number of contributors to include
    in the report. The range is 1 to 100. If you omit this, the default of 10 is used." Of 12
    contributors the report lists the 10 largest, largest first."""
    found = top_contributors(rule(["$.k"]), ladder(12))
    assert found == [Contributor((f"c{i:02}",), float(i)) for i in range(12, 2, -1)]


@pytest.mark.parametrize("limit", [1, 3, 11, 12, 100])
def test_the_limit_caps_the_number_of_contributors(limit: int) -> None:
    """Same sentence, with a MaxContributorCount given: the `limit` largest of 12, or all 12
    when the limit is larger."""
    found = top_contributors(rule(["$.k"]), ladder(12), limit)
    want = [Contributor((f"c{i:02}",), float(i)) for i in range(12, 0, -1)][:limit]
    assert found == want


def test_tied_contributors_at_the_cut() -> None:
    """The documentation says nothing about the order of contributors with equal values, so
    only what holds under every order is tested: with a limit of 2 and three contributors of 3
    events each behind one of 5, the report holds the 5 and one of the three, with its true
    value."""
    events = [(GROUP, {"k": k}) for k, n in (("big", 5), ("x", 3), ("y", 3), ("z", 3))
              for _ in range(n)]  # fmt: skip
    found = top_contributors(rule(["$.k"]), events, 2)
    assert found[0] == Contributor(("big",), 5.0)
    assert len(found) == 2 and found[1].keys[0] in {"x", "y", "z"} and found[1].value == 3.0


@given(
    keys=st.lists(st.sampled_from("abcdefghij"), max_size=40),
    limit=st.integers(1, 12),
)
def test_the_report_is_a_top_n_whatever_the_order_of_ties(keys: list[str], limit: int) -> None:
    """For any events (few values, so many ties) and any limit: the report lists min(limit,
    contributors) distinct contributors, each with its true count, largest first, and no
    contributor left out has more than the smallest one listed ("the contributors are ranked
    by their ... number of occurrences in the log entries", ValueOf; MaxContributorCount)."""
    truth = Counter(keys)
    found = top_contributors(rule(["$.k"]), [(GROUP, {"k": k}) for k in keys], limit)
    assert len(found) == min(limit, len(truth))
    assert len({c.keys for c in found}) == len(found)
    assert all(c.value == truth[c.keys[0]] for c in found)
    assert [c.value for c in found] == sorted((c.value for c in found), reverse=True)
    if found:
        listed = {c.keys[0] for c in found}
        assert all(n <= found[-1].value for k, n in truth.items() if k not in listed)


# -- LogGroupNames -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "groups, log_group, read",
    [
        (["Log-group-name2"], "Log-group-name2", True),
        (["Log-group-name2"], "Log-group-name2-extra", False),  # no `*`: the exact name only
        (["Log-group-name2"], "Log-group-name", False),
        (["API-Gateway-Access-Logs*"], "API-Gateway-Access-Logs-prod", True),
        (["API-Gateway-Access-Logs*"], "API-Gateway-Access-Logs", True),  # starts with it
        (["API-Gateway-Access-Logs*"], "API-Gateway-Access-Log", False),
        (["API-Gateway-Access-Logs*"], "My-API-Gateway-Access-Logs-prod", False),  # a prefix
        (["API-Gateway-Access-Logs*", "Log-group-name2"], "Log-group-name2", True),
        (["API-Gateway-Access-Logs*", "Log-group-name2"], "API-Gateway-Access-Logs-dev", True),
        (["API-Gateway-Access-Logs*", "Log-group-name2"], "Other", False),
    ],
)
def test_log_group_names_exact_or_prefix(groups: list[str], log_group: str, read: bool) -> None:
    """LogGroupNames: "An array of strings. For each element in the array, you can optionally
    use `*` at the end of a string to include all log groups with names that start with that
    prefix." (The page's example rule names `API-Gateway-Access-Logs*` and `Log-group-name2`.)
    An event counts only when its log group is one the rule reads."""
    r = rule(["$.k"], groups=groups)
    assert counts(r, [{"k": "x"}], log_group) == ({"x": 1.0} if read else {})


# -- Keys ----------------------------------------------------------------------------------------


def test_each_combination_of_key_values_is_a_contributor_and_an_event_lacking_one_is_none() -> None:
    """Keys: "If you enter more than one key, each unique combination of values for the keys is
    counted as a unique contributor." An event lacking one of the keys has no value for it, so
    it belongs to no combination and counts for no contributor (worked by hand; the page has
    no sentence for it)."""
    r = rule(["$.ip", "$.user"])
    events = [
        {"ip": "1.1.1.1", "user": "u1"},
        {"ip": "1.1.1.1", "user": "u2"},
        {"ip": "1.1.1.1", "user": "u1"},
        {"ip": "1.1.1.1"},  # no user
        {"user": "u1"},  # no ip
        {"IP": "1.1.1.1", "user": "u1"},  # "IP" is not "ip": matching is case sensitive
    ]
    found = top_contributors(r, [(GROUP, e) for e in events])
    assert found == [Contributor(("1.1.1.1", "u1"), 2.0), Contributor(("1.1.1.1", "u2"), 1.0)]


def test_a_nested_key_lacking_its_parent_counts_for_nothing() -> None:
    """The page's JSON property paths (`$.requestParameters.instanceId`): an event without
    `requestParameters`, or where it is not an object, has no value at that path."""
    r = rule(["$.requestParameters.instanceId"])
    events: list[dict[str, Any]] = [
        {"requestParameters": {"instanceId": "i-1"}},
        {"requestParameters": {}},
        {"requestParameters": "i-1"},
        {},
    ]
    assert counts(r, events) == {"i-1": 1.0}


@given(st.lists(st.tuples(st.sampled_from(["a", "b", None]), st.sampled_from(["x", None])),
                max_size=30))  # fmt: skip
def test_only_events_holding_every_key_count(pairs: list[tuple[str | None, str | None]]) -> None:
    """Two keys over random events, some lacking one or both: the contributors are exactly the
    combinations of the events that hold both keys, each with its number of events."""
    events = [{**({"a": a} if a else {}), **({"b": b} if b else {})} for a, b in pairs]
    found = top_contributors(rule(["$.a", "$.b"]), [(GROUP, e) for e in events], 100)
    expected = Counter((a, b) for a, b in pairs if a and b)
    assert {c.keys: c.value for c in found} == {k: float(n) for k, n in expected.items()}
