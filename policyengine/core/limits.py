"""How much input the engine accepts, and how much work one rule may do: limits with
defaults that fit a 1,000,000-instance account, each configurable by an environment
variable, and each stated in the message of the error that enforces it."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from typing import Final

# Beyond this, orjson itself refuses a document; a limit above it cannot be enforced.
PARSER_DEPTH: Final = 1024
# Beyond this, walks over a condition could reach Python's recursion limit.
MAX_NESTING: Final = 128


@dataclass(frozen=True)
class Limits:
    # A 1,000,000-instance snapshot is about 1.8 GB of JSON.
    input_bytes: int = 8 * 1024**3
    # Snapshots, exports and plans nest a few dozen levels; past this, something is wrong,
    # and the engine's own walks stay far from Python's recursion limit.
    json_depth: int = 128
    policy_bytes: int = 4 * 1024**2
    # Quantifier and count steps one (rule, resource) outcome may take: about ten seconds
    # of work. A rule that needs more is reported as `error`, naming the rule.
    outcome_steps: int = 20_000_000
    # How deep a condition may nest (defines expanded where they are called). The checker,
    # compiler, evaluator and formatter recurse once or a few times per level: at this
    # depth they stay far from Python's recursion limit. Chains of `and`/`or` are flat
    # and nest one level, however long.
    nesting: int = 64


_ENV = {
    "input_bytes": "POLICYENGINE_MAX_INPUT_BYTES",
    "json_depth": "POLICYENGINE_MAX_JSON_DEPTH",
    "policy_bytes": "POLICYENGINE_MAX_POLICY_BYTES",
    "outcome_steps": "POLICYENGINE_MAX_OUTCOME_STEPS",
    "nesting": "POLICYENGINE_MAX_NESTING",
}


class LimitError(ValueError):
    """A limit set to something that is not a positive integer (a usage error)."""


def env_name(field: str) -> str:
    return _ENV[field]


def current() -> Limits:
    """The limits in force: the defaults, overridden by the environment."""
    # Asked once per outcome traced (tens of thousands a run): the environment is read
    # each time, and what it says is made into limits once.
    return _limits(tuple(os.environ.get(name) for name in _ENV.values()))


def outcome_steps() -> int:
    """The step limit of one outcome (`current().outcome_steps`), reading only its own
    variable: asked once per outcome traced, where reading all five was a fifth of the
    time of tracing a simple rule's outcome."""
    return _outcome_steps(os.environ.get(_ENV["outcome_steps"]))


@functools.lru_cache(maxsize=16)
def _outcome_steps(raw: str | None) -> int:
    return _limits(tuple(raw if f == "outcome_steps" else None for f in _ENV)).outcome_steps


@functools.lru_cache(maxsize=16)
def _limits(environment: tuple[str | None, ...]) -> Limits:
    values: dict[str, int] = {}
    for (field, name), raw in zip(_ENV.items(), environment, strict=True):
        if raw is None or raw == "":
            continue
        try:
            value = int(raw.replace("_", ""))
        except ValueError:
            raise LimitError(f"{name}={raw!r} is not a whole number") from None
        if value < 1:
            raise LimitError(f"{name}={raw!r} must be at least 1")
        values[field] = value
    limits = Limits(**values)
    if limits.nesting > MAX_NESTING:
        raise LimitError(
            f"{_ENV['nesting']}={limits.nesting} is above {MAX_NESTING}, the deepest the "
            "engine's walks over a condition can go"
        )
    if limits.json_depth > PARSER_DEPTH:
        raise LimitError(
            f"{_ENV['json_depth']}={limits.json_depth} is above {PARSER_DEPTH}, "
            "the deepest document the JSON parser reads"
        )
    return limits


def size(n: int) -> str:
    """A byte count for people: 1.8 GB, 4 MiB."""
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}".replace(".0 ", " ")
    return f"{n} bytes"
