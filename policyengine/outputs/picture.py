"""Pictures of resources and the relations between them: boxes grouped inside their zone
and region, relations as labelled edges. One picture model, laid out once, drawn as inline
SVG for HTML reports and as a Mermaid flowchart for Markdown.

The layout is grandalf's layered (Sugiyama) layout, applied at each level of nesting:
resources inside a zone, zones inside a region, regions side by side. It is pure Python,
so a report needs nothing installed beside the package and nothing loaded at view time.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from policyengine.inputs.store import Store
from policyengine.runtime import Result

NO_REGION = "no region"
NO_ZONE = ""  # a regional resource sits in its region's box, outside every zone


@dataclass(frozen=True)
class Node:
    key: str  # "disk d-1": unique in a picture
    kind: str
    name: str
    region: str  # NO_REGION for a global resource
    zone: str  # NO_ZONE for a regional one
    marks: tuple[str, ...] = ()  # the values that decided, highlighted in the box
    status: str = ""  # fail | error | pass | skipped, when the picture marks findings


@dataclass(frozen=True)
class Link:
    source: str  # node keys
    target: str
    label: str  # the relation's verb: "attach"
    path: str = ""  # how it was found: "via disk.instance_id"
    caption: str = ""  # the failing comparison: "cn-hangzhou-j ≠ cn-hangzhou-h"
    status: str = ""  # the outcome the link decided, when it decided one


@dataclass(frozen=True)
class Picture:
    title: str
    nodes: tuple[Node, ...]
    links: tuple[Link, ...] = ()

    def description(self) -> str:
        """The picture in words: its text alternative."""
        parts = [
            f"{n.key} in {_where(n)}" + (f" ({'; '.join(n.marks)})" if n.marks else "")
            for n in self.nodes
        ]
        for link in self.links:
            said = f"{link.source} {link.label} {link.target}"
            said += f" ({link.path})" if link.path else ""
            said += f": {link.caption}" if link.caption else ""
            parts.append(said)
        return ". ".join(parts) + "."


def _where(n: Node) -> str:
    if n.zone:
        return f"zone {n.zone} of region {n.region}"
    return "no region" if n.region == NO_REGION else f"region {n.region}"


# ---------------------------------------------------------------- from an explanation


def location_text(value: object) -> str:
    """A region or zone as a picture names it; a value known only after apply says so."""
    if value is None or value == "":
        return ""
    if isinstance(value, dict):
        return "unknown until apply"
    return str(value)


def _node(ref: dict[str, Any], facts: Sequence[dict[str, Any]], status: str) -> Node:
    key = f"{ref['kind']} {ref['id']}"
    marks = tuple(
        _brief(f["text"], key) for f in facts if f.get("resource") == key and f["kind"] == "read"
    )
    return Node(
        key=key,
        kind=ref["kind"],
        name=str(ref["id"]),
        region=location_text(ref.get("region")) or NO_REGION,
        zone=location_text(ref.get("zone")),
        marks=marks,
        status=status,
    )


def _brief(text: str, owner: str) -> str:
    for prefix in (f"{owner}: ", f"{owner} "):
        if text.startswith(prefix):
            return text[len(prefix) :]
    return text


_HOW = re.compile(r"\(((?:via|on) [^)]*)\)\s*$")


def from_finding(doc: dict[str, Any]) -> Picture | None:
    """The picture of one cross-resource outcome (a finding of the JSON report, or a
    proof document): both resources, the relation between them and what decided. None
    for an outcome about one resource alone."""
    related = doc.get("related")
    if not related:
        return None
    facts = doc.get("evidence") or []
    status = str(doc.get("outcome", ""))
    subject = _node(doc["resource"], facts, status)
    other = _node(related, facts, "")
    relation = str(related.get("relation") or "")
    words = relation.split()
    verb = " ".join(words[1:-1]) if len(words) >= 3 else relation or "related to"
    source, target = subject, other
    if len(words) >= 3 and words[0] == other.kind and words[-1] == subject.kind:
        source, target = other, subject
    path = ""
    for f in facts:
        found = _HOW.search(f.get("text", "")) if f["kind"] == "follow" else None
        if found:
            path = found.group(1)
            break
    captions = [f["text"] for f in facts if f["kind"] == "compare"]
    caption = "; ".join(captions) if captions else ""
    link = Link(source.key, target.key, verb, path, caption, status)
    if subject.key == other.key:  # a resource related to itself: one box, no edge
        return Picture(doc["rule"], (subject,))
    return Picture(doc["rule"], (subject, other), (link,))


# ---------------------------------------------------------------- layout

CHAR = 7.5  # width of one character of the 12px monospace font, with a margin
LINE = 16.0
PAD = 10.0
HEAD = 20.0  # a group's heading
GAP = 28.0
SPAN = 110.0  # between layers: room for the relation's name on the edge
MAX_CHARS = 44


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float

    def centre(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h / 2


@dataclass
class Layout:
    width: float
    height: float
    nodes: dict[str, Box] = field(default_factory=dict)
    groups: list[tuple[str, str, Box]] = field(default_factory=list)  # (level, label, box)


def _clip(text: str) -> str:
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1] + "…"


def node_lines(n: Node) -> list[str]:
    return [_clip(n.kind), _clip(n.name), *(_clip(m) for m in n.marks)]


def _node_size(n: Node) -> tuple[float, float]:
    lines = node_lines(n)
    return max(len(t) for t in lines) * CHAR + 2 * PAD, len(lines) * LINE + PAD


class _View:
    """What grandalf reads and writes on a vertex: its size, then its centre."""

    def __init__(self, w: float, h: float) -> None:
        self.w, self.h = h, w  # laid out top to bottom, drawn left to right
        self.xy = (0.0, 0.0)


@lru_cache(maxsize=512)
def _arrange(
    sizes: tuple[tuple[float, float], ...], edges: tuple[tuple[int, int], ...]
) -> tuple[tuple[tuple[float, float], ...], tuple[float, float]]:
    """Top-left corners for boxes of these sizes, edges pointing left to right; and the
    size of the whole. Each connected part is laid out by grandalf, the parts stacked."""
    # Imported here: only a picture needs it, not every run of the command line.
    from grandalf.graphs import Edge as GEdge
    from grandalf.graphs import Graph as GGraph
    from grandalf.graphs import Vertex as GVertex
    from grandalf.layouts import SugiyamaLayout

    vertices = [GVertex(i) for i in range(len(sizes))]
    for v, (w, h) in zip(vertices, sizes, strict=True):
        v.view = _View(w, h)
    graph = GGraph(
        vertices, [GEdge(vertices[a], vertices[b]) for a, b in sorted(set(edges)) if a != b]
    )
    corners: list[tuple[float, float]] = [(0.0, 0.0)] * len(sizes)
    top, width = 0.0, 0.0
    for part in sorted(graph.C, key=lambda c: min(v.data for v in c.sV)):
        layout = SugiyamaLayout(part)
        layout.xspace, layout.yspace = GAP, SPAN
        layout.init_all()
        layout.draw()
        # Transposed: grandalf's layers run down the page, ours across it.
        placed = {
            v.data: (v.view.xy[1] - v.view.h / 2, v.view.xy[0] - v.view.w / 2) for v in part.sV
        }
        left = min(x for x, _ in placed.values())
        up = min(y for _, y in placed.values())
        bottom = top
        for i, (x, y) in placed.items():
            corners[i] = (x - left, y - up + top)
            width = max(width, x - left + sizes[i][0])
            bottom = max(bottom, y - up + top + sizes[i][1])
        top = bottom + GAP
    return tuple(corners), (width, max(0.0, top - GAP))


def _place(
    members: Sequence[str],
    sizes: dict[str, tuple[float, float]],
    links: Iterable[tuple[str, str]],
) -> tuple[dict[str, tuple[float, float]], tuple[float, float]]:
    index = {m: i for i, m in enumerate(members)}
    edges = tuple((index[a], index[b]) for a, b in links if a in index and b in index)
    corners, size = _arrange(tuple(sizes[m] for m in members), edges)
    return dict(zip(members, corners, strict=True)), size


def layout(picture: Picture) -> Layout:
    """Resources inside their zone, zones inside their region, regions side by side."""
    regions: dict[str, dict[str, list[Node]]] = {}
    for n in picture.nodes:
        regions.setdefault(n.region, {}).setdefault(n.zone, []).append(n)
    of = {n.key: n for n in picture.nodes}
    pairs = [(link.source, link.target) for link in picture.links]

    def zone_id(n: Node) -> str:
        return f"{n.region}\x00{n.zone}"

    # Innermost first: each zone's content, then each region's zones, then the regions.
    inner: dict[str, dict[str, tuple[float, float]]] = {}
    sizes: dict[str, tuple[float, float]] = {n.key: _node_size(n) for n in picture.nodes}
    for region, zones in regions.items():
        for zone, nodes in zones.items():
            zid = f"{region}\x00{zone}"
            corners, (w, h) = _place([n.key for n in nodes], sizes, pairs)
            inner[zid] = corners
            framed = bool(zone)
            sizes[zid] = (w + 2 * PAD, h + 2 * PAD + HEAD) if framed else (w, h)
        zone_pairs = [(zone_id(of[a]), zone_id(of[b])) for a, b in pairs]
        corners, (w, h) = _place([f"{region}\x00{z}" for z in zones], sizes, zone_pairs)
        inner[region] = corners
        sizes[region] = (w + 2 * PAD, h + 2 * PAD + HEAD)
    region_pairs = [(of[a].region, of[b].region) for a, b in pairs]
    corners, (w, h) = _place(list(regions), sizes, region_pairs)
    out = Layout(w + 2 * PAD, h + 2 * PAD)
    for region, zones in regions.items():
        rx, ry = corners[region]
        rx, ry = rx + PAD, ry + PAD
        rw, rh = sizes[region]
        label = "no region (global)" if region == NO_REGION else f"region {region}"
        out.groups.append(("region", label, Box(rx, ry, rw, rh)))
        for zone, nodes in zones.items():
            zid = f"{region}\x00{zone}"
            zx, zy = inner[region][zid]
            zx, zy = rx + PAD + zx, ry + PAD + HEAD + zy
            if zone:
                zw, zh = sizes[zid]
                out.groups.append(("zone", f"zone {zone}", Box(zx, zy, zw, zh)))
                zx, zy = zx + PAD, zy + PAD + HEAD
            for n in nodes:
                nx, ny = inner[zid][n.key]
                out.nodes[n.key] = Box(zx + nx, zy + ny, *sizes[n.key])
    return out


# ---------------------------------------------------------------- SVG


def _border(box: Box, towards: tuple[float, float]) -> tuple[float, float]:
    """Where the line from the box's centre towards a point leaves the box."""
    cx, cy = box.centre()
    dx, dy = towards[0] - cx, towards[1] - cy
    if dx == 0 and dy == 0:
        return cx, cy
    scale = min(
        (box.w / 2) / abs(dx) if dx else float("inf"),
        (box.h / 2) / abs(dy) if dy else float("inf"),
    )
    return cx + dx * scale, cy + dy * scale


def _text(x: float, y: float, text: str, cls: str, anchor: str = "start") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" class="{cls}" text-anchor="{anchor}">'
        f"{html.escape(text)}</text>"
    )


def style() -> str:
    """The pictures' stylesheet, which a page holds once and a standalone SVG itself."""
    return (resources.files("policyengine.outputs") / "assets" / "picture.css").read_text("utf-8")


def svg(picture: Picture, ident: str = "p", *, standalone: bool = False) -> str:
    """The picture as inline SVG, with its title and description as text alternatives.
    Status and emphasis are carried by stroke pattern and weight as well as colour, so a
    greyscale print keeps them."""
    placed = layout(picture)
    extra = 3 * LINE * sum(1 for link in picture.links if link.caption)
    width, height = max(placed.width, 120.0), placed.height + extra
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="picture" role="img" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
        f'aria-labelledby="{ident}-t {ident}-d">',
        f'<title id="{ident}-t">{html.escape(picture.title)}</title>',
        f'<desc id="{ident}-d">{html.escape(picture.description())}</desc>',
        f"<style>{style()}</style>" if standalone else "",
        f'<defs><marker id="{ident}-arrow" viewBox="0 0 10 10" refX="10" refY="5" '
        'markerWidth="8" markerHeight="8" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" class="arrowhead"/></marker></defs>',
    ]
    for level, label, b in placed.groups:
        out.append(
            f'<g class="group {level}" data-group="{html.escape(label)}">'
            f'<rect x="{b.x:.1f}" y="{b.y:.1f}" width="{b.w:.1f}" height="{b.h:.1f}" rx="6"/>'
            + _text(b.x + PAD, b.y + 14, label, "group-label")
            + "</g>"
        )
    for n in picture.nodes:
        b = placed.nodes[n.key]
        status = f" status-{n.status}" if n.status else ""
        out.append(
            f'<g class="node kind-{html.escape(n.kind)}{status}" data-key="{html.escape(n.key)}"'
            f' data-kind="{html.escape(n.kind)}">'
            f'<rect class="frame" x="{b.x:.1f}" y="{b.y:.1f}" width="{b.w:.1f}" '
            f'height="{b.h:.1f}" rx="3"/>'
        )
        for i, line in enumerate(node_lines(n)):
            cls = ("kind", "name")[i] if i < 2 else "mark"
            y = b.y + PAD / 2 + LINE * (i + 1) - 4
            if cls == "mark":
                out.append(
                    f'<rect class="mark-bg" x="{b.x + 4:.1f}" y="{y - 12:.1f}" '
                    f'width="{b.w - 8:.1f}" height="{LINE - 1:.1f}"/>'
                )
            out.append(_text(b.x + PAD, y, line, cls))
        out.append("</g>")
    below = placed.height
    for link in picture.links:
        a, b = placed.nodes[link.source], placed.nodes[link.target]
        x1, y1 = _border(a, b.centre())
        x2, y2 = _border(b, a.centre())
        status = f" status-{link.status}" if link.status else ""
        mx, my = (x1 + x2) / 2, (y1 + y2) / 2
        words = f"{link.label}" + (f" ({link.path})" if link.path else "")
        out.append(
            f'<g class="link{status}" data-relation="{html.escape(link.label)}" '
            f'data-source="{html.escape(link.source)}" data-target="{html.escape(link.target)}">'
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
            f'marker-end="url(#{ident}-arrow)"/>'
            + _text(mx, my - 6, link.label, "link-label", "middle")
        )
        if link.caption:
            # Under the picture, so that a long comparison never covers a box.
            out.append(_text(PAD, below + LINE, f"{words}: ", "caption-lead"))
            out.append(_text(PAD, below + 2 * LINE, link.caption, "caption"))
            below += 3 * LINE
        out.append("</g>")
    out.append("</svg>")
    return "".join(out)


# ---------------------------------------------------------------- Mermaid


def _mermaid_text(text: str) -> str:
    """Text safe inside a quoted Mermaid label: its entity codes for what would end or
    break the label, no markup, and nothing a pull-request comment would act on."""
    out = []
    for ch in text:
        if ch in '"#<>&`[](){}|@':
            out.append(f"#{ord(ch)};")
        elif ch < " ":
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def mermaid(picture: Picture) -> str:
    """The picture as a Mermaid flowchart, which GitHub renders in comments and job
    summaries: a subgraph per region and zone, the relation as a labelled edge."""
    ids = {n.key: f"n{i}" for i, n in enumerate(picture.nodes)}
    lines = ["flowchart LR"]
    regions: dict[str, dict[str, list[Node]]] = {}
    for n in picture.nodes:
        regions.setdefault(n.region, {}).setdefault(n.zone, []).append(n)
    for r, (region, zones) in enumerate(regions.items()):
        label = "no region (global)" if region == NO_REGION else f"region {region}"
        lines.append(f'  subgraph r{r}["{_mermaid_text(label)}"]')
        for z, (zone, nodes) in enumerate(zones.items()):
            indent = "    "
            if zone:
                lines.append(f'    subgraph r{r}z{z}["{_mermaid_text("zone " + zone)}"]')
                indent = "      "
            for n in nodes:
                text = "<br/>".join(_mermaid_text(t) for t in node_lines(n))
                lines.append(f'{indent}{ids[n.key]}["{text}"]')
            if zone:
                lines.append("    end")
        lines.append("  end")
    for link in picture.links:
        words = link.label + (f" ({link.path})" if link.path else "")
        label = _mermaid_text(words)
        if link.caption:
            label += "<br/>" + _mermaid_text(link.caption)
        arrow = "-.->" if link.status in ("fail", "error") else "-->"
        lines.append(f'  {ids[link.source]} {arrow}|"{label}"| {ids[link.target]}')
    return "\n".join(lines)


# ---------------------------------------------------------------- a whole account


def of_account(store: Store, statuses: Mapping[int, str] | None = None) -> Picture:
    """Every resource of a snapshot in its region and zone, with the edges of every
    relation that names its target (relations that pair resources `on` a shared key,
    such as a region, are left out: they connect everything in it). `statuses` marks a
    resource's worst outcome, by its index in the store."""
    statuses = statuses or {}
    keys: dict[int, str] = {}
    nodes: list[Node] = []
    for r in store.resources:
        key = f"{r.kind} {r.key}"
        if key in keys.values():  # a name unique only per region
            key += f" in {location_text(r.region) or NO_REGION}"
        keys[r.index] = key
        nodes.append(
            Node(
                key=key,
                kind=r.kind,
                name=r.key,
                region=location_text(r.region) or NO_REGION,
                zone=location_text(r.zone),
                status=statuses.get(r.index, ""),
            )
        )
    links: dict[tuple[str, str, str], Link] = {}
    for relation in store.model.relations:
        if relation.join:
            continue
        for source in store.by_kind.get(relation.source, ()):
            for edge in store.edges_from(relation, source):
                for target in edge.targets:
                    ends = (keys[source.index], keys[target.index], relation.verb)
                    if ends[0] != ends[1] and ends not in links:
                        links[ends] = Link(*ends, path="via " + ", ".join(edge.paths))
    return Picture(f"resources of {store.file}", tuple(nodes), tuple(links.values()))


_WORST = {"fail": 0, "error": 1, "pass": 2, "skipped": 3}


def worst_outcomes(results: Iterable[Result]) -> dict[int, str]:
    """Each resource's worst outcome (fail, then error, pass, skipped), by store index."""
    out: dict[int, str] = {}
    for r in results:
        status = str(r.status)
        known = out.get(r.resource.index)
        if known is None or _WORST[status] < _WORST[known]:
            out[r.resource.index] = status
    return out
