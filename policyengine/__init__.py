"""policyengine: policy-as-code for cloud resources.

The stages, in order: `parse` text into a syntax tree, `load` (parse, check against the
model, compile) files into a plan, build a `Store` from a snapshot, `evaluate` the plan
over it, and `trace` an outcome to explain it.
"""

from policyengine.core.diagnostics import Diagnostic as Diagnostic
from policyengine.core.diagnostics import DiagnosticError as DiagnosticError
from policyengine.core.errors import InputError as InputError
from policyengine.core.source import Source as Source
from policyengine.core.source import Span as Span
from policyengine.core.version import __version__ as __version__
from policyengine.frontend.loader import load as load
from policyengine.frontend.parser import parse as parse
from policyengine.inputs.snapshot import parse_snapshot as parse_snapshot
from policyengine.inputs.store import Store as Store
from policyengine.runtime import Result as Result
from policyengine.runtime import Status as Status
from policyengine.runtime import evaluate as evaluate
from policyengine.runtime import trace as trace
