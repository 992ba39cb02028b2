"""YAML as JSON written by hand: the one loader for every YAML file the engine reads (test
files, parameters, waivers).

YAML can say more than JSON, and what it says beyond is either a trap or an attack:
- aliases: 800 bytes of nested `*a` references expand to gigabytes when the value is
  walked. Aliases are allowed (anchors for shared fixtures are useful), but the nodes they
  add, counted as if expanded, must stay within a small budget;
- nesting: the composer recurses once per level, so depth is checked first, on the flat
  event stream;
- tags: `2024-01-01` is a date, `!!binary` bytes, `!!set` a set; none is a JSON value,
  and code downstream that expects JSON breaks on them. Each is an error naming the place,
  with the fix (quote the value).
Every problem is a `YamlError` with the 1-based line and column.

Documents are read by libyaml where PyYAML was built with it (ten times faster: the packs'
test files are 120 KB of YAML). A document libyaml does not read cleanly is read again by
the pure-Python reader, whose problem and place are the ones reported, so a message is the
same with or without libyaml.
"""

from __future__ import annotations

from typing import Any, Final

import yaml

from policyengine.core.errors import YamlError

# Nodes that aliases may add, counted as if each alias were written out in full.
ALIAS_BUDGET: Final = 10_000
# Deeper than any test file, waivers or parameters file needs; far from the stack limit.
DEPTH: Final = 100


def _at(file: str, mark: Any, problem: str) -> YamlError:
    # A pure-Python or libyaml Mark: both have line, column and index.
    if mark is None:
        return YamlError(file, 1, 1, problem)
    return YamlError(file, mark.line + 1, mark.column + 1, problem, mark.index)


def _prescan(text: str, file: str, loader: Any = yaml.SafeLoader) -> None:
    """Depth and alias expansion measured on the event stream (the parser is iterative):
    refused before anything is composed."""
    sizes: dict[str, int] = {}  # anchor -> nodes of its value, aliases expanded
    stack: list[tuple[str | None, int]] = []  # (anchor, nodes so far) of open collections
    added = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.CollectionStartEvent):
            if len(stack) >= DEPTH:
                raise _at(file, event.start_mark, f"nested deeper than {DEPTH} levels")
            stack.append((event.anchor, 1))
            continue
        if isinstance(event, yaml.AliasEvent):
            if event.anchor not in sizes:
                raise _at(file, event.start_mark, f"alias *{event.anchor} names no anchor")
            size = sizes[event.anchor]
            added += size
            if added > ALIAS_BUDGET:
                raise _at(
                    file,
                    event.start_mark,
                    f"aliases expand to more than {ALIAS_BUDGET:,} values; write the "
                    "values out, or use fewer aliases",
                )
        elif isinstance(event, yaml.ScalarEvent):
            size = 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, size = stack.pop()
            if anchor is not None:
                sizes[anchor] = size
        else:
            continue
        if stack:
            anchor, held = stack[-1]
            stack[-1] = (anchor, held + size)


_NOT_JSON: Final = {
    "tag:yaml.org,2002:timestamp": "a date or time is not a JSON value",
    "tag:yaml.org,2002:binary": "binary data (!!binary) is not a JSON value",
    "tag:yaml.org,2002:set": "a set (!!set) is not a JSON value",
    "tag:yaml.org,2002:omap": "an ordered map (!!omap) is not a JSON value",
    "tag:yaml.org,2002:pairs": "pairs (!!pairs) are not a JSON value",
}


class _JsonValues(yaml.constructor.SafeConstructor):
    """The safe constructor, for JSON values only."""

    file = "<yaml>"

    def construct_not_json(self, node: yaml.Node) -> Any:
        problem = _NOT_JSON.get(node.tag, f"the tag {node.tag} is not a JSON value")
        raise _at(self.file, node.start_mark, f"{problem}; quote it to make it a string")

    def construct_json_float(self, node: yaml.ScalarNode) -> Any:
        value = self.construct_yaml_float(node)
        if value != value or value in (float("inf"), float("-inf")):
            raise _at(self.file, node.start_mark, f"{node.value} is not a JSON number")
        return value

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> Any:
        for key, _ in node.value:
            if not (isinstance(key, yaml.ScalarNode) and key.tag == "tag:yaml.org,2002:str"):
                if key.tag != "tag:yaml.org,2002:merge":
                    raise _at(
                        self.file,
                        key.start_mark,
                        "a key must be a string (JSON keys are); quote it",
                    )
        return super().construct_mapping(node, deep)


class _Loader(_JsonValues, yaml.SafeLoader):
    """The pure-Python reader: the one whose problems are reported."""


_LOADERS: list[Any] = [_Loader]
_CSafeLoader: Any = getattr(yaml, "CSafeLoader", None)
if _CSafeLoader is not None:

    class _CLoader(_JsonValues, _CSafeLoader):  # type: ignore[misc]
        """libyaml's reader, for documents it reads without a problem."""

    _LOADERS.append(_CLoader)

for _loader in _LOADERS:
    for _tag in _NOT_JSON:
        _loader.add_constructor(_tag, _JsonValues.construct_not_json)
    _loader.add_constructor("tag:yaml.org,2002:float", _JsonValues.construct_json_float)
    _loader.add_constructor(None, _JsonValues.construct_not_json)


def _read_by_libyaml(text: str) -> tuple[bool, Any]:
    """(True, value) when libyaml reads the document without a problem; (False, None)
    without libyaml or on any problem, which the pure-Python reader then reports."""
    if len(_LOADERS) == 1:
        return False, None
    fast = _LOADERS[1]
    try:
        _prescan(text, "<yaml>", fast)
        loader = fast(text)
        try:
            return True, loader.get_single_data()
        finally:
            loader.dispose()
    except (yaml.YAMLError, YamlError):
        return False, None


def load_yaml(text: str, file: str) -> Any:
    """The JSON value a YAML document holds. Raises YamlError."""
    read, value = _read_by_libyaml(text)
    if read:
        return value
    try:
        _prescan(text, file)
        loader = _Loader(text)
        loader.file = file
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise _at(file, mark, f"not valid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise YamlError(file, 1, 1, f"not valid YAML: {exc}") from None


def compose_yaml(text: str, file: str) -> yaml.Node | None:
    """The node tree of a YAML document (for readers that point at nodes), after the same
    depth and alias checks. Raises YamlError."""
    try:
        _prescan(text, file)
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise _at(file, mark, f"not valid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise YamlError(file, 1, 1, f"not valid YAML: {exc}") from None
