"""policyengine: policy-as-code for cloud resources.

The stages, in order: `parse` text into a syntax tree, `load` (parse, check against the
model, compile) files into a plan, build a `Store` from a snapshot, `evaluate` the plan
over it, and `trace` an outcome to explain it.
"""

from policyengine.diagnostics import Diagnostic as Diagnostic
from policyengine.diagnostics import DiagnosticError as DiagnosticError
from policyengine.interpreter import Result as Result
from policyengine.interpreter import Status as Status
from policyengine.interpreter import evaluate as evaluate
from policyengine.interpreter import trace as trace
from policyengine.loader import load as load
from policyengine.parser import parse as parse
from policyengine.snapshot import InputError as InputError
from policyengine.snapshot import parse_snapshot as parse_snapshot
from policyengine.source import Source as Source
from policyengine.source import Span as Span
from policyengine.store import Store as Store

__version__ = "0.1.0"
