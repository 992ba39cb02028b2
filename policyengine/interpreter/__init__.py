"""Runs a plan over a store. Every (rule, resource) pair, or (rule, edge) for a sentence,
ends as pass, fail, error or skipped; nothing undecidable ever passes.

One evaluator, two modes. `evaluate` records nothing: it is the fast path. `trace`
re-runs one pair with recording on and returns the proof that explanations render.
Never raises on bad data: a missing value or a dangling reference is an `error` outcome.
"""

from policyengine.interpreter.outcomes import Fact as Fact
from policyengine.interpreter.outcomes import Proof as Proof
from policyengine.interpreter.outcomes import Result as Result
from policyengine.interpreter.outcomes import Status as Status
from policyengine.interpreter.outcomes import Trace as Trace
from policyengine.interpreter.outcomes import Unknown as Unknown
from policyengine.interpreter.rules import decisive as decisive
from policyengine.interpreter.rules import evaluate as evaluate
from policyengine.interpreter.rules import trace as trace
