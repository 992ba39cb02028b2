"""`policyengine schema` (also `policyengine snapshot schema`): the snapshot's JSON Schema."""

import json

from policyengine.cli import console
from policyengine.cli.app import app, snapshot_app


# One command under two names: the snapshot format belongs with the `snapshot` commands,
# and `schema` at the top is what people try first.
@app.command("schema")
@snapshot_app.command("schema")
def schema() -> None:
    """Print the JSON Schema of the normalized snapshot."""
    # The schema comes from the format's pydantic models, which no other command imports.
    from policyengine.inputs.snapshot_format import json_schema

    console.document(json.dumps(json_schema(), indent=2))
