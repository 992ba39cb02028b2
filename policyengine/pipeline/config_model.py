"""What a configuration file may hold, as a pydantic model: read only when there is a
file (pydantic takes longer to import than a small account takes to evaluate)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from policyengine.core.semantics import Severity
from policyengine.pipeline.config import FailOn

Scalar = str | int | float | bool


class Config(BaseModel):
    """What a configuration file may hold; every field optional (None: not set)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    policies: list[str] | None = None
    params: dict[str, Scalar] | None = None  # NAME or POLICY.NAME -> value, as --param
    params_file: str | None = Field(None, alias="params-file")
    waivers: str | None = None
    baseline: str | None = None
    fail_on: FailOn | None = Field(None, alias="fail-on")
    fail_on_error: bool | None = Field(None, alias="fail-on-error")
    format: str | None = None
    outputs: dict[str, str] | None = None  # FORMAT -> PATH, as --output FORMAT=PATH
    rules: list[str] | None = None
    skip_rules: list[str] | None = Field(None, alias="skip-rules")
    tags: list[str] | None = None
    min_severity: Severity | None = Field(None, alias="min-severity")
    input_format: str | None = Field(None, alias="input-format")
    region: str | None = None
    tf_dir: str | None = Field(None, alias="tf-dir")
    docs_url: str | None = Field(None, alias="docs-url")


KEYS: tuple[str, ...] = tuple(f.alias or name for name, f in Config.model_fields.items())
