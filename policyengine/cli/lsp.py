"""`policyengine lsp`: the language server, for an editor to start."""

from policyengine.cli.app import app


@app.command("lsp")
def lsp_command() -> None:
    """Serve the language server on stdin and stdout, for an editor to start."""
    from policyengine.lsp.server import serve  # only an editor's session needs pygls

    serve()
