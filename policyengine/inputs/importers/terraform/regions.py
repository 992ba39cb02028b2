"""Where a Terraform resource is: no alicloud resource carries its region, so it is the
region of the provider configuration the resource uses (aliases and a module's inherited
configuration included), or `--region`."""

from __future__ import annotations

from typing import Any

from policyengine.inputs.importers.base import Options
from policyengine.inputs.snapshot import UnknownValue


def region_of(
    key: str | None, providers: dict[str, Any], variables: dict[str, Any], options: Options
) -> str | UnknownValue | None:
    """The region of the provider configuration `key`; a module's resource may use its
    parent's configuration (`module.app:alicloud` -> `alicloud`)."""
    candidates = [key, key.split(":", 1)[-1] if key else None, "alicloud"]
    for k in candidates:
        config = providers.get(k) if k else None
        if not isinstance(config, dict):
            continue
        expr = (config.get("expressions") or {}).get("region")
        if isinstance(expr, dict):
            if isinstance(expr.get("constant_value"), str):
                return str(expr["constant_value"])
            for ref in expr.get("references") or []:
                if ref.startswith("var."):
                    var = variables.get(ref[4:])
                    if isinstance(var, dict) and isinstance(var.get("value"), str):
                        return str(var["value"])
            return UnknownValue(f"provider.{k}.region")
        break  # a configuration without a region: the environment or --region sets it
    if options.region:
        return options.region
    return UnknownValue(f"provider.{key or 'alicloud'}.region")
