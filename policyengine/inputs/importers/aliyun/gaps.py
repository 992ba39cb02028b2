"""APIs an export lacks: what a rule cannot decide without them.

A disk names its automatic snapshot policy (AutoSnapshotPolicyId) and the KMS key that
encrypts it (KMSKeyId); where the export holds no DescribeAutoSnapshotPolicyEx item for
the policy, or no DescribeKey response for the key, the policy or key is a gap in that
region: every rule that reads its kind reports `error` with the reason, in the words of a
failed call ("not collected: DescribeKey in cn-hangzhou: not in the export (disk d-…
names key-…)"), never `pass`. A call the manifest lists as failed is that call's gap
already. An export that names no policy or key has no such gap: like every other listing,
an API absent from it lists nothing.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from policyengine.inputs.importers.aliyun.convert import Build
from policyengine.inputs.importers.aliyun.manifest import Failure

# What a disk names, the kind it is, and the API that describes it.
NAMED = (
    ("auto_snapshot_policy_id", "auto_snapshot_policy", "DescribeAutoSnapshotPolicyEx"),
    ("kms_key_id", "kms_key", "DescribeKey"),
)
ABSENT = "not in the export"


def absent(build: Build, failed: tuple[Failure, ...]) -> list[dict[str, Any]]:
    failures = {(f.api, f.region) for f in failed}
    gaps: list[dict[str, Any]] = []
    for attribute, kind, api in NAMED:
        undescribed: dict[str, list[str]] = defaultdict(list)  # region -> "d-… names …"
        for res in build.resources:
            value = res.get(attribute)
            region = res.get("region")
            if res["kind"] != "disk" or not isinstance(value, str) or not value:
                continue
            if not isinstance(region, str) or (api, region) in failures:
                continue
            if build.find(kind, region, value) is None:
                undescribed[region].append(f"{res.get('id')} names {value}")
        for region, named in sorted(undescribed.items()):
            more = f" and {len(named) - 1} more" if len(named) > 1 else ""
            reason = f"not collected: {api} in {region}: {ABSENT} (disk {named[0]}{more})"
            gaps.append({"kinds": [kind], "region": region, "reason": reason})
    return gaps
