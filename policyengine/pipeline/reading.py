"""How snapshot arguments are read, as the command line's options say: a module of its
own so that the options need not import the process pool that evaluates apart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True)
class Reading:
    """How the snapshot arguments are read: the --input-format, --region, --verbose given."""

    format: str = "auto"
    region: str | None = None
    verbose: bool = False
    now: datetime | None = None  # --now: the time `now()` reads, instead of captured_at
    tf_dir: Path | None = None  # --tf-dir: a Terraform plan's `.tf` files, if not beside it
