"""Prints how long finding resource positions takes on a large snapshot: the example
account repeated N times (default 2000, about 120,000 resources), indented as exports are.

    python benchmarks/positions.py [N]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from policyengine.core.positions import Positions
from policyengine.core.source import Source

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "ecs-account" / "snapshot.json"


def main() -> None:
    copies = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    doc = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    doc["resources"] = doc["resources"] * copies
    text = json.dumps(doc, indent=2)
    started = time.perf_counter()
    json.loads(text)
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    positions = Positions(Source("big.json", text))
    scanned = time.perf_counter() - started
    started = time.perf_counter()
    found = sum(
        1 for i in range(0, len(doc["resources"]), 10) if positions.find(f"/resources/{i}/zone")
    )
    looked_up = time.perf_counter() - started
    print(f"{len(doc['resources'])} resources, {len(text) / 1e6:.1f} MB of JSON")
    print(f"json.loads:              {loaded:.2f} s")
    print(f"resource positions:      {scanned:.2f} s")
    print(f"{found} member lookups:  {looked_up:.2f} s (the first builds the line index)")


if __name__ == "__main__":
    main()
