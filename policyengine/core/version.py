"""The version of policyengine: set here alone. The build reads it from this file
(`[tool.hatch.version]`), `policyengine --version` prints it, and every report names it."""

__version__ = "0.1.0"

# The distribution's name on package indexes. The import package and the command are
# `policyengine`; the name `policyengine` on PyPI belongs to an unrelated project.
DISTRIBUTION = "cloudrules-engine"

TOOL = "policyengine"


def tool_version() -> str:
    """How reports name the tool that made them: `policyengine 0.1.0`."""
    return f"{TOOL} {__version__}"
