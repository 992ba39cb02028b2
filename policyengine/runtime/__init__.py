"""Runs a plan over a store. Every (rule, resource) pair, or (rule, edge) for a sentence,
ends as pass, fail, error or skipped; nothing undecidable ever passes.

Two evaluators, one plan. `evaluate` runs the plan compiled into closures and records
nothing: it is the fast path. `evaluate_interpreted` walks the plan, and `trace` re-runs
one pair with recording on and returns the proof that explanations render.
Never raises on bad data: a missing value or a dangling reference is an `error` outcome.
"""

from policyengine.runtime.compiled import compile_plan as compile_plan
from policyengine.runtime.compiled import evaluate as evaluate
from policyengine.runtime.outcomes import Fact as Fact
from policyengine.runtime.outcomes import Proof as Proof
from policyengine.runtime.outcomes import Result as Result
from policyengine.runtime.outcomes import Status as Status
from policyengine.runtime.outcomes import Trace as Trace
from policyengine.runtime.outcomes import Unknown as Unknown
from policyengine.runtime.rules import Tally as Tally
from policyengine.runtime.rules import decisive as decisive
from policyengine.runtime.rules import evaluate_interpreted as evaluate_interpreted
from policyengine.runtime.rules import trace as trace
