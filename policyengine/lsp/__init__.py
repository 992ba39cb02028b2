"""The language server: diagnostics, completion, hover, definitions, references,
formatting, symbols and quick fixes for policy and model files, from the checker's own
analysis."""
