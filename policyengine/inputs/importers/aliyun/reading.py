"""Reading an export: a folder of response files, one file, or a bundle, into responses
that know their API, their region and the call that made them."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policyengine.core.files import Confinement
from policyengine.inputs.importers.aliyun.apis import APIS, BY_WRAPPER, PRODUCTS, Api
from policyengine.inputs.importers.base import Input, Options
from policyengine.inputs.snapshot import (
    InputError,
    Problem,
    describe_json,
    load_json,
    pointer_escape,
    read_input,
)

_REGION = re.compile(r"[a-z]{2}(-[a-z0-9]+)+")
_PAGE = re.compile(r"page([0-9]+)")


@dataclass
class Response:
    file: str
    base: str  # JSON Pointer of the response body in its file
    body: dict[str, Any]
    api: Api
    region: str | None  # the call's region, when the layout, manifest or --region says it
    region_from: str  # where that region came from, said for a person
    params: dict[str, str]  # the command line's parameters, from the manifest
    qualifier: str | None  # a file-name part naming what the call was about
    order: tuple[int, str]  # page number (from the body or the name), then file

    def at(self, *parts: str | int) -> str:
        return self.base + "".join(f"/{pointer_escape(p)}" for p in parts)

    def items(self) -> list[Any]:
        outer, inner = self.api.items
        wrapper = self.body.get(outer)
        if isinstance(wrapper, dict):
            found = wrapper.get(inner, [])
            return found if isinstance(found, list) else []
        return []


def parse_command(line: str) -> tuple[str | None, dict[str, str]]:
    """`aliyun ecs DescribeDisks --RegionId cn-hangzhou --PageNumber 2` -> (API, params)."""
    try:
        words = shlex.split(line)
    except ValueError:
        return None, {}
    # `aliyun ecs|vpc API --Param value ...`: the API is the word after the product.
    product = next((i for i, w in enumerate(words) if w in PRODUCTS), None)
    after = words[product + 1 :] if product is not None else words
    api = next((w for w in after if not w.startswith("-")), None)
    params: dict[str, str] = {}
    for i, word in enumerate(words):
        if word.startswith("--") and i + 1 < len(words) and not words[i + 1].startswith("--"):
            params[word[2:]] = words[i + 1]
        elif word.startswith("--") and "=" in word:
            key, _, val = word[2:].partition("=")
            params[key] = val
    return api, params


def _not_read(api_name: str) -> str:
    return f"`{api_name}` is not an API policyengine reads; it reads " + ", ".join(APIS)


def _command_region(params: dict[str, str]) -> str | None:
    return params.get("RegionId") or params.get("region")


def read_folder(source: Input, options: Options, problems: list[Problem]) -> list[Response]:
    assert source.path is not None
    root = source.path
    manifest: dict[str, str] = {}
    # Files of the folder stay in it: a symlink out (to /dev/zero, to a secret) is refused.
    inside = Confinement.of([root])
    manifest_path = root / "manifest.json"
    manifest_name = _join(source.name, "manifest.json")
    if manifest_path.is_file():
        data = load_json(_read_text(manifest_path, manifest_name, inside), manifest_name)
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            problems.append(
                Problem(
                    manifest_name,
                    "",
                    "expected an object mapping each file to its command line, e.g. "
                    '{"cn-hangzhou/DescribeDisks.json": "aliyun ecs DescribeDisks --RegionId '
                    'cn-hangzhou"}',
                )
            )
        else:
            manifest = data
    out: list[Response] = []
    files = sorted(p for p in root.rglob("*.json") if p != manifest_path)
    if not files:
        problems.append(Problem(source.name, "", "no .json file in the folder"))
    # A manifest names files of the folder; its names are compared with them, never opened
    # (a name may be anything: `../x`, an absolute path, longer than a path may be).
    held = {p.relative_to(root).as_posix() for p in files}
    for rel in manifest:
        if rel not in held:
            problems.append(
                Problem(
                    manifest_name,
                    f"/{pointer_escape(rel)}",
                    f"no such file in the folder: {rel}",
                )
            )
    for path in files:
        rel = path.relative_to(root).as_posix()
        name = _join(source.name, rel)
        try:
            data = load_json(_read_text(path, name, inside), name)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        folders = rel.split("/")[:-1]
        region, region_from = None, ""
        api_name, params = parse_command(manifest[rel]) if rel in manifest else (None, {})
        if api_name is not None and api_name not in APIS:
            problems.append(Problem(manifest_name, f"/{pointer_escape(rel)}", _not_read(api_name)))
            continue
        if _command_region(params):
            region, region_from = _command_region(params), f"its command line in {manifest_name}"
        elif folders:
            folder = folders[-1]
            if folder != "global":
                if not _REGION.fullmatch(folder):
                    problems.append(
                        Problem(
                            name,
                            "",
                            f"the folder `{folder}` is not a region name; put each region's "
                            "files in a folder named after it (`cn-hangzhou/`), and region-less "
                            "APIs in `global/`",
                        )
                    )
                    continue
                region, region_from = folder, f"its folder `{folder}/`"
        elif options.region:
            region, region_from = options.region, "--region"
        out.extend(
            _responses(name, data, api_name, params, region, region_from, path.stem, problems)
        )
    return out


def read_file(source: Input, options: Options, problems: list[Problem]) -> list[Response]:
    region, region_from = (options.region, "--region") if options.region else (None, "")
    stem = source.path.stem if source.path is not None else ""
    if isinstance(source.data, list):  # a bundle of several responses
        out: list[Response] = []
        for i, entry in enumerate(source.data):
            base = f"/{i}"
            if isinstance(entry, dict) and "response" in entry:
                command = entry.get("command")
                if command is not None and not isinstance(command, str):
                    problems.append(
                        Problem(
                            source.name,
                            f"{base}/command",
                            f"expected the command line, found {describe_json(command)}",
                        )
                    )
                    continue
                api_name, params = (
                    parse_command(command) if isinstance(command, str) else (None, {})
                )
                if api_name is not None and api_name not in APIS:
                    problems.append(Problem(source.name, f"{base}/command", _not_read(api_name)))
                    continue
                entry_region, entry_from = region, region_from
                if _command_region(params):
                    entry_region, entry_from = _command_region(params), "its command line"
                out.extend(
                    _responses(
                        source.name,
                        entry["response"],
                        api_name,
                        params,
                        entry_region,
                        entry_from,
                        "",
                        problems,
                        base=f"{base}/response",
                        index=i,
                    )
                )
            else:
                out.extend(
                    _responses(
                        source.name, entry, None, {}, region, region_from, "", problems, base, i
                    )
                )
        return out
    return _responses(source.name, source.data, None, {}, region, region_from, stem, problems)


def _responses(
    file: str,
    body: Any,
    api_name: str | None,
    params: dict[str, str],
    region: str | None,
    region_from: str,
    stem: str,
    problems: list[Problem],
    base: str = "",
    index: int = 0,
) -> list[Response]:
    """One response body -> a Response, after checking that it is the API it claims."""
    if not isinstance(body, dict):
        problems.append(
            Problem(file, base, f"expected an API response object, found {describe_json(body)}")
        )
        return []
    parts = stem.split(".") if stem else []
    page = 0
    qualifier = None
    if parts and parts[0] in APIS and api_name is None:
        api_name = parts[0]
    for part in parts[1:]:
        match = _PAGE.fullmatch(part)
        if match:
            page = int(match.group(1))
        else:
            qualifier = part
    looks_like = next((api for key, api in BY_WRAPPER.items() if key in body), None)
    if api_name is None:
        if looks_like is None:
            problems.append(Problem(file, base, _unrecognised(body)))
            return []
        api = looks_like
    else:
        api = APIS[api_name]
        if api.items[0] not in body:
            if looks_like is None and "Code" in body:
                problems.append(Problem(file, f"{base}/Code", _unrecognised(body)))
                return []
            other = (
                f"; this is a {looks_like.name} response"
                if looks_like is not None
                else f"; found {_keys(body)}"
            )
            first = looks_like.items[0] if looks_like is not None else ""
            problems.append(
                Problem(
                    file,
                    f"{base}/{pointer_escape(first)}" if first else base,
                    f"expected `{api.items[0]}` (a {api.name} response){other}",
                )
            )
            return []
    outer, inner = api.items
    wrapper = body[outer]
    if wrapper not in ({}, [], "") and not (
        isinstance(wrapper, dict) and isinstance(wrapper.get(inner), list)
    ):
        problems.append(
            Problem(
                file,
                f"{base}/{outer}",
                f'expected {{"{inner}": [...]}}, found {describe_json(wrapper)}',
            )
        )
        return []
    number = body.get("PageNumber")
    if isinstance(number, str) and number.isdigit():
        number = int(number)
    order = (number if isinstance(number, int) and not page else page or index, file)
    return [Response(file, base, body, api, region, region_from, params, qualifier, order)]


def _unrecognised(body: dict[str, Any]) -> str:
    if "Code" in body and "Message" in body:
        return (
            f"an error response ({body.get('Code')}: {body.get('Message')}), not data: "
            "export the call again"
        )
    known = ", ".join(sorted(APIS))
    return (
        f"not a response of an ECS or VPC API policyengine reads: found {_keys(body)}; "
        f"the APIs it reads are {known}"
    )


def _keys(body: dict[str, Any]) -> str:
    keys = [k for k in body if k != "RequestId"][:6]
    return "keys " + ", ".join(f"`{k}`" for k in keys) if keys else "no data keys"


def _read_text(path: Path, name: str, confine: Confinement | None = None) -> str:
    return read_input(path, name, confine)


def _join(folder: str, rel: str) -> str:
    return f"{folder.rstrip('/')}/{rel}"
