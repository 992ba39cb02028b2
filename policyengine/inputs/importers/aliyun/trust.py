"""A RAM role's trust policy (GetRole's `AssumeRolePolicyDocument`, a JSON document held
in a string) -> an object rules can read:

    {"version": "1",
     "statements": [{"effect": "Allow", "actions": ["sts:AssumeRole"],
                     "principals": {"ram": ["acs:ram::1498765432101234:root"],
                                    "service": [], "federated": []},
                     "conditions": [{"operator": "StringEquals", "key": "sts:ExternalId",
                                     "values": ["abc"]}]}]}

A principal or action given as one string is a list of one; a principal type the RAM
policy grammar does not have, a statement that is not an object, or a document that is
not JSON is a problem naming the file and the field, with the place inside the document:
a trust policy misread could hide who may assume the role.
"""

from __future__ import annotations

import json
from typing import Any

from policyengine.inputs.snapshot import Problem, describe_json

# The principal types of the RAM policy grammar, and the attribute each becomes.
PRINCIPALS = {"RAM": "ram", "Service": "service", "Federated": "federated"}


def parse(document: Any, file: str, at: str, problems: list[Problem]) -> dict[str, Any] | None:
    """The trust policy of one role; None (with a problem) when it cannot be read."""
    before = len(problems)

    def problem(inside: str, message: str) -> None:
        where = f" (at {inside} in the document)" if inside else ""
        problems.append(Problem(file, at, f"the trust policy{where}: {message}"))

    if not isinstance(document, str):
        problem(
            "", f"expected the policy document as a JSON string, found {describe_json(document)}"
        )
        return None
    try:
        data = json.loads(document)
    except (json.JSONDecodeError, RecursionError) as exc:
        message = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
        problem("", f"not valid JSON: {message}")
        return None
    if not isinstance(data, dict):
        problem("", f"expected an object, found {describe_json(data)}")
        return None
    rows = data.get("Statement")
    if isinstance(rows, dict):
        rows = [rows]  # one statement may be given without its list
    if not isinstance(rows, list):
        problem("/Statement", f"expected a list of statements, found {describe_json(rows)}")
        return None
    statements = []
    for i, row in enumerate(rows):
        here = f"/Statement/{i}"
        if not isinstance(row, dict):
            problem(here, f"expected a statement object, found {describe_json(row)}")
            continue
        effect = row.get("Effect")
        if not isinstance(effect, str):
            problem(f"{here}/Effect", f"expected Allow or Deny, found {describe_json(effect)}")
            continue
        principals: dict[str, list[str]] = {name: [] for name in PRINCIPALS.values()}
        given = row.get("Principal", {})
        if not isinstance(given, dict):
            problem(f"{here}/Principal", f"expected an object, found {describe_json(given)}")
            continue
        for key, value in given.items():
            if key not in PRINCIPALS:
                problem(
                    f"{here}/Principal/{key}",
                    f"unknown principal type `{key}`; expected " + ", ".join(PRINCIPALS),
                )
                continue
            names = _strings(value)
            if names is None:
                problem(
                    f"{here}/Principal/{key}",
                    f"expected a string or a list of strings, found {describe_json(value)}",
                )
                continue
            principals[PRINCIPALS[key]] = names
        actions = _strings(row.get("Action", []))
        if actions is None:
            problem(
                f"{here}/Action",
                f"expected a string or a list of strings, found {describe_json(row['Action'])}",
            )
            continue
        conditions = _conditions(row.get("Condition", {}), f"{here}/Condition", problem)
        statements.append(
            {
                "effect": effect,
                "actions": actions,
                "principals": principals,
                "conditions": conditions,
            }
        )
    if len(problems) > before:
        return None
    out: dict[str, Any] = {"statements": statements}
    if isinstance(data.get("Version"), str):
        out["version"] = data["Version"]
    return out


def _strings(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def _conditions(value: Any, at: str, problem: Any) -> list[dict[str, Any]]:
    """{"StringEquals": {"sts:ExternalId": "abc"}} -> one row per operator and key."""
    if not isinstance(value, dict):
        problem(at, f"expected an object, found {describe_json(value)}")
        return []
    out = []
    for operator, tests in value.items():
        if not isinstance(tests, dict):
            problem(f"{at}/{operator}", f"expected an object, found {describe_json(tests)}")
            continue
        for key, given in tests.items():
            values = _strings(given)
            if values is None and isinstance(given, bool | int | float):
                values = [json.dumps(given)]  # `"Bool": {"acs:MFAPresent": true}`
            if values is None:
                problem(
                    f"{at}/{operator}/{key}",
                    f"expected a string or a list of strings, found {describe_json(given)}",
                )
                continue
            out.append({"operator": operator, "key": key, "values": values})
    return out
