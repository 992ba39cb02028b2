"""The command line: the only package that imports typer, prints, or exits.

One module per command; options several commands share are declared once in `options`.
Commands parse their arguments, call the library and map the outcome to output and an
exit code. stdout is the product; stderr is for people. With `--format json`, stdout is
always one JSON document, even when the input was bad.
"""

from policyengine.core import collector

# Started, a command imports most of the package: some hundred thousand objects that live
# until it exits (a twentieth of the bundled example's time went to collecting them).
with collector.lasting():
    from policyengine.cli.app import app
    from policyengine.cli.main import main

__all__ = ["app", "main"]
