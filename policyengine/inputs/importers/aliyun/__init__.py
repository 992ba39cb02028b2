"""What the `aliyun` CLI prints for the ECS (and VPC) Describe APIs -> the normalized
snapshot.

The input is a folder of JSON files, one per call as the CLI prints it, or one file (a
single response, or a JSON array bundling several as `{"command": ..., "response": ...}`).
Field names are the official APIs' (the `alibabacloud-ecs20140526` and
`alibabacloud-vpc20160428` models). Every field a response holds is kept, under the
model's attribute name by one rule:

* PascalCase becomes snake_case (`InstanceChargeType` -> `instance_charge_type`,
  `OSName` -> `os_name`), and a one-key wrapper around a list is unwrapped
  (`{"SecurityGroupIds": {"SecurityGroupId": [...]}}` -> `security_group_ids: [...]`);
* except for the few names in `RENAMES` and `LIST_RENAMES`, the item's own id field
  (`DiskId` -> `id`, `KeyPairName` -> `name`), `RegionId` -> `region`, and a top-level
  `ZoneId` -> `zone` on a kind that may be located in a zone;
* every `Tags` shape (`{"Tag": [{"TagKey", "TagValue"}]}`, `{Key, Value}` pairs,
  ListTagResources rows) becomes one `tags` map; `ImageOwnerAlias` also gives the image's
  `visibility` (`VISIBILITY`).

Two fields that would become one name, a tag given twice and a tag value that is not a
string are problems: no value is dropped silently. What is deliberately not kept:
DescribeZones' fields other than ZoneId (the zones are the `locations` table), an item of
DescribeInstanceRamRole without a role, and a top-level `"ZoneId": ""` (no zone).

Where a response does not say its region, the region is the call's: the folder the file
is in (`cn-hangzhou/DescribeKeyPairs.json`; `global/` for region-less APIs), the
command line `manifest.json` maps the file to, or `--region`. A region is never derived
from a zone id. Pages (`PageNumber`/`TotalCount` or `NextToken`) are merged and checked.
A response the importer does not recognise, a missing page, a duplicate id and a string
that does not convert to the model's type are problems naming the file and the JSON path.
"""

from __future__ import annotations

from typing import Any

from policyengine.core import model
from policyengine.inputs.importers.aliyun.apis import (
    APIS,
    BY_WRAPPER,
    LIST_RENAMES,
    RENAMES,
    Api,
    snake,
)
from policyengine.inputs.importers.aliyun.manifest import parse_command
from policyengine.inputs.importers.base import Converted, Importer, Input, Options

__all__ = ["APIS", "IMPORTER", "LIST_RENAMES", "RENAMES", "Api", "parse_command", "snake"]


def convert(source: Input, m: model.Model, options: Options) -> Converted:
    # The conversion's modules are imported by the runs that read an aliyun export: a run
    # over a snapshot or a Terraform plan does not pay for them at start-up.
    from policyengine.inputs.importers.aliyun import export

    return export.convert(source, m, options)


def detect(data: Any) -> str | None:
    bodies = data if isinstance(data, list) else [data]
    for body in bodies:
        if isinstance(body, dict) and isinstance(body.get("response"), dict):
            body = body["response"]
        if isinstance(body, dict):
            for key, api in BY_WRAPPER.items():
                if key in body:
                    return f"it holds `{key}`, as a {api.name} response does"
    return None


IMPORTER = Importer(
    "aliyun", "aliyun CLI output", detect, convert, "a Describe* response", folders=True
)
