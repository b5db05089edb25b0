"""The Contributor Insights rule evaluator against hand-worked examples built on the rule
syntax documentation (CloudWatch user guide, "Contributor Insights rule syntax": its example
rule, its filter examples and its JSON property paths), and its refusals."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from local_run.cloudwatch.contributor_insights import Contributor, Rule, RuleError, top_contributors

# The documentation's example rule, verbatim.
DOC_RULE: dict[str, Any] = {
    "Schema": {"Name": "CloudWatchLogRule", "Version": 1},
    "LogGroupNames": ["API-Gateway-Access-Logs*", "Log-group-name2"],
    "LogFormat": "JSON",
    "Contribution": {
        "Keys": ["$.ip"],
        "ValueOf": "$.requestBytes",
        "Filters": [{"Match": "$.httpMethod", "In": ["PUT"]}],
    },
    "AggregateOn": "Sum",
}


def _rule(**changes: Any) -> Rule:
    body = copy.deepcopy(DOC_RULE)
    for key, value in changes.items():
        if key in ("Keys", "ValueOf", "Filters"):
            body["Contribution"][key] = value
        else:
            body[key] = value
    if changes.get("AggregateOn") == "Count":
        body["Contribution"].pop("ValueOf", None)
    return Rule.from_json("test", body)


def test_the_documentations_example_rule() -> None:
    prod, dev, other = "API-Gateway-Access-Logs-prod", "API-Gateway-Access-Logs-dev", "Other"

    def event(ip: str | None, method: str, size: int) -> dict[str, Any]:
        e: dict[str, Any] = {"httpMethod": method, "requestBytes": size}
        if ip is not None:
            e["ip"] = ip
        return e

    events = [
        (prod, event("1.1.1.1", "PUT", 100)),
        (prod, event("1.1.1.1", "PUT", 50)),
        (dev, event("2.2.2.2", "PUT", 400)),
        # GET is filtered out; another log group is not read; a missing key does not count.
        (prod, event("1.1.1.1", "GET", 999)),
        (other, event("3.3.3.3", "PUT", 999)),
        ("Log-group-name2", event(None, "PUT", 7)),
        ("Log-group-name2", event("4.4.4.4", "PUT", 10)),
        # Matching is case sensitive: "put" is not "PUT".
        ("Log-group-name2", event("4.4.4.4", "put", 500)),
    ]
    assert top_contributors(Rule.from_json("doc", DOC_RULE), events) == [
        Contributor(("2.2.2.2",), 400.0),
        Contributor(("1.1.1.1",), 150.0),
        Contributor(("4.4.4.4",), 10.0),
    ]


@pytest.mark.parametrize(
    ("flt", "event", "matches"),
    [
        # The documentation's filter examples.
        ({"Match": "$.StatusCode", "EqualTo": 200}, {"StatusCode": 200}, True),
        ({"Match": "$.StatusCode", "EqualTo": 200}, {"StatusCode": 404}, False),
        ({"Match": "$.BytesReceived", "GreaterThan": 10000}, {"BytesReceived": 10001}, True),
        ({"Match": "$.BytesReceived", "GreaterThan": 10000}, {"BytesReceived": 10000}, False),
        ({"Match": "$.eventSource", "StartsWith": ["ec2", "ecs"]},
         {"eventSource": "ecs.amazonaws.com"}, True),
        ({"Match": "$.eventSource", "StartsWith": ["ec2", "ecs"]},
         {"eventSource": "s3.amazonaws.com"}, False),
        ({"Match": "$.httpMethod", "NotIn": ["PUT"]}, {"httpMethod": "GET"}, True),
        ({"Match": "$.latency", "LessThan": 5}, {"latency": 4.5}, True),
        ({"Match": "$.latency", "NotEqualTo": 5}, {"latency": 5}, False),
        ({"Match": "$.latency", "GreaterThan": 0}, {"latency": "12"}, False),  # not a number
        ({"Match": "$.latency", "GreaterThan": 0}, {}, False),  # missing
        ({"Match": "$.detail", "IsPresent": True}, {"detail": "x"}, True),
        ({"Match": "$.detail", "IsPresent": False}, {}, True),
        # IsPresent works on leaf values only: an object is not a leaf.
        ({"Match": "$.details", "IsPresent": True}, {"details": {"c-count": 1}}, False),
    ],
)
def test_filters(flt: dict[str, Any], event: dict[str, Any], matches: bool) -> None:
    rule = _rule(Keys=["$.k"], Filters=[flt], AggregateOn="Count")
    assert (rule.contribution({"k": "x", **event}) is not None) is matches


@pytest.mark.parametrize(
    ("path", "event", "value"),
    [
        # The documentation's JSON property paths.
        ("$.userAgent", {"userAgent": "curl"}, "curl"),
        ("$.endpoints[0]", {"endpoints": ["a", "b"]}, "a"),
        ("$.users[1].name", {"users": [{"name": "x"}, {"name": "y"}]}, "y"),
        ("$.requestParameters.instanceId", {"requestParameters": {"instanceId": "i-1"}}, "i-1"),
    ],
)
def test_json_property_paths(path: str, event: dict[str, Any], value: str) -> None:
    rule = _rule(Keys=[path], Filters=[], AggregateOn="Count")
    assert rule.contribution(event) == ((value,), 1.0)


def test_several_keys_make_one_contributor_per_combination() -> None:
    rule = _rule(Keys=["$.a", "$.b"], Filters=[], AggregateOn="Count")
    events = [("Log-group-name2", e) for e in ({"a": "1", "b": "x"}, {"a": "1", "b": "y"},
                                                 {"a": "1", "b": "x"})]
    assert top_contributors(rule, events) == [
        Contributor(("1", "x"), 2.0), Contributor(("1", "y"), 1.0)
    ]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"LogFormat": "CLF"}, "only LogFormat JSON"),
        ({"Keys": ["$.a", "$.b", "$.c", "$.d", "$.e"]}, "1 to 4"),
        ({"Keys": []}, "1 to 4"),
        ({"Filters": [{"Match": "$.a", "Like": ["x"]}]}, "exactly one operator"),
        ({"Filters": [{"Match": "$.a", "In": "PUT"}]}, "list of 1 to 10 strings"),
        ({"Filters": [{"Match": "$.a", "In": [str(i) for i in range(11)]}]}, "1 to 10"),
        ({"Filters": [{"Match": "$.a", "GreaterThan": "ten"}]}, "takes a number"),
        ({"Filters": [{"Match": "$.a", "EqualTo": 1}] * 5}, "at most 4 filters"),
        ({"Keys": ["ip"]}, r"must start with \$"),
        ({"AggregateOn": "Average"}, "Count or Sum"),
        ({"Schema": {"Name": "Other", "Version": 1}}, "CloudWatchLogRule"),
    ],
)
def test_rules_outside_the_syntax_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(RuleError, match=message):
        _rule(**changes)


def test_sum_needs_value_of() -> None:
    body = copy.deepcopy(DOC_RULE)
    del body["Contribution"]["ValueOf"]
    with pytest.raises(RuleError, match="needs ValueOf"):
        Rule.from_json("x", body)


@given(
    st.lists(
        st.fixed_dictionaries(
            {"k": st.sampled_from(["a", "b", "c"]), "v": st.integers(-5, 5)}
        ),
        max_size=40,
    )
)
def test_count_is_the_number_of_matching_events(events: list[dict[str, Any]]) -> None:
    rule = _rule(Keys=["$.k"], Filters=[{"Match": "$.v", "GreaterThan": 0}], AggregateOn="Count")
    logged = [("Log-group-name2", e) for e in events]
    found = {c.keys[0]: c.value for c in top_contributors(rule, logged)}
    for key in "abc":
        expected = sum(1 for e in events if e["k"] == key and e["v"] > 0)
        assert found.get(key, 0) == expected
