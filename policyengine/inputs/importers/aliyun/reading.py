"""Reading an export: a folder of response files, one file, or a bundle, into responses
that know their API, their region and the call that made them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policyengine.core.files import Confinement
from policyengine.inputs.importers.aliyun import manifest as manifests
from policyengine.inputs.importers.aliyun.apis import APIS, BY_WRAPPER, Api
from policyengine.inputs.importers.aliyun.manifest import Manifest, parse_command, query_of
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
    query: str  # what the call asked for, whatever the page: pages of one query share it
    order: tuple[int, str]  # page number (from the body or the name), then file

    def at(self, *parts: str | int) -> str:
        return self.base + "".join(f"/{pointer_escape(p)}" for p in parts)

    def item_at(self, index: int) -> str:
        """The JSON Pointer of the index-th item."""
        outer, inner = self.api.items
        return self.at(outer) if self.api.single else self.at(outer, inner, index)

    def items(self) -> list[Any]:
        outer, inner = self.api.items
        wrapper = self.body.get(outer)
        if self.api.single:
            return [wrapper] if wrapper not in (None, {}, "") else []
        if isinstance(wrapper, dict):
            found = wrapper.get(inner, [])
            return found if isinstance(found, list) else []
        return []


@dataclass(frozen=True)
class NotRead:
    """A response of an API policyengine does not read: listed, never converted."""

    file: str
    api: str

    def describe(self) -> str:
        return f"{self.file}: {self.api} is not an API policyengine reads"


@dataclass
class Export:
    """What reading an input found: the responses to convert, the responses of APIs the
    engine does not read, and the manifest's facts."""

    responses: list[Response] = field(default_factory=list)
    not_read: list[NotRead] = field(default_factory=list)
    manifest: Manifest = field(default_factory=Manifest)


# An API's name as a file or command line gives it: `ListRoles`, `DescribeRegions`.
_API_NAME = re.compile(r"[A-Z][A-Za-z0-9]+")


def _command_region(params: dict[str, str]) -> str | None:
    return params.get("RegionId") or params.get("region")


def read_folder(source: Input, options: Options, problems: list[Problem]) -> Export:
    assert source.path is not None
    root = source.path
    export = Export()
    # Files of the folder stay in it: a symlink out (to /dev/zero, to a secret) is refused.
    inside = Confinement.of([root])
    manifest_path = root / "manifest.json"
    manifest_name = _join(source.name, "manifest.json")
    if manifest_path.is_file():
        data = load_json(_read_text(manifest_path, manifest_name, inside), manifest_name)
        export.manifest = manifests.parse(data, manifest_name, problems)
    commands = export.manifest.commands
    files = sorted(p for p in root.rglob("*.json") if p != manifest_path)
    if not files:
        problems.append(Problem(source.name, "", "no .json file in the folder"))
    # A manifest names files of the folder; its names are compared with them, never opened
    # (a name may be anything: `../x`, an absolute path, longer than a path may be).
    held = {p.relative_to(root).as_posix() for p in files}
    for rel in commands:
        if rel not in held:
            problems.append(
                Problem(
                    manifest_name,
                    f"{export.manifest.files_at}/{pointer_escape(rel)}",
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
        api_name, params = parse_command(commands[rel]) if rel in commands else (None, {})
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
        at = f"{export.manifest.files_at}/{pointer_escape(rel)}"
        call = _Call(
            name, api_name, params, region, region_from, path.stem, "", 0, (manifest_name, at)
        )
        _response(call, data, export, problems)
    return export


def read_file(source: Input, options: Options, problems: list[Problem]) -> Export:
    region, region_from = (options.region, "--region") if options.region else (None, "")
    stem = source.path.stem if source.path is not None else ""
    export = Export()
    if not isinstance(source.data, list):
        _response(
            _Call(source.name, None, {}, region, region_from, stem), source.data, export, problems
        )
        return export
    for i, entry in enumerate(source.data):  # a bundle of several responses
        base = f"/{i}"
        if not (isinstance(entry, dict) and "response" in entry):
            call = _Call(source.name, None, {}, region, region_from, "", base, i)
            _response(call, entry, export, problems)
            continue
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
        api_name, params = parse_command(command) if isinstance(command, str) else (None, {})
        entry_region, entry_from = region, region_from
        if _command_region(params):
            entry_region, entry_from = _command_region(params), "its command line"
        call = _Call(
            source.name,
            api_name,
            params,
            entry_region,
            entry_from,
            "",
            f"{base}/response",
            i,
            (source.name, f"{base}/command"),
        )
        _response(call, entry["response"], export, problems)
    return export


@dataclass(frozen=True)
class _Call:
    """What is known of the call that made one response, before its body is read."""

    file: str
    api: str | None  # from the manifest or the bundle's command line
    params: dict[str, str]
    region: str | None
    region_from: str
    stem: str  # the file name without `.json`: `DescribeImages.self.page2`
    base: str = ""  # the JSON Pointer of the body in its file
    index: int = 0  # its place in a bundle
    command_at: tuple[str, str] = ("", "")  # the file and pointer of its command line


def _response(call: _Call, body: Any, export: Export, problems: list[Problem]) -> None:
    """One response body -> a Response, after checking that it is the API it claims; or
    a NotRead, for a response of an API the engine does not read."""
    file, base, api_name = call.file, call.base, call.api
    if not isinstance(body, dict):
        problems.append(
            Problem(file, base, f"expected an API response object, found {describe_json(body)}")
        )
        return
    parts = call.stem.split(".") if call.stem else []
    page = 0
    qualifier = None
    named = None
    if parts and _API_NAME.fullmatch(parts[0]):
        named = parts[0]
    for part in parts[1:]:
        match = _PAGE.fullmatch(part)
        if match:
            page = int(match.group(1))
        else:
            qualifier = part
    looks_like = next((api for key, api in BY_WRAPPER.items() if key in body), None)
    if api_name is None and named in APIS:
        api_name = named
    if api_name is None and looks_like is None and named is not None and "RequestId" in body:
        api_name = named  # a response, named after an API the engine may not read
    if api_name is not None and api_name not in APIS:
        if not _API_NAME.fullmatch(api_name):
            where, at = call.command_at if call.command_at[0] else (file, base)
            problems.append(
                Problem(
                    where, at, f"`{api_name}` is not an API policyengine reads: not an API name"
                )
            )
            return
        export.not_read.append(NotRead(f"{file}#{base}" if base else file, api_name))
        return
    if api_name is None:
        if looks_like is None:
            problems.append(Problem(file, base, _unrecognised(body)))
            return
        api = looks_like
    else:
        api = APIS[api_name]
        if api.items[0] not in body:
            if looks_like is None and "Code" in body:
                problems.append(Problem(file, f"{base}/Code", _unrecognised(body)))
                return
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
            return
    outer, inner = api.items
    wrapper = body[outer]
    if api.single:
        if not isinstance(wrapper, dict):
            problems.append(
                Problem(
                    file,
                    f"{base}/{outer}",
                    f"expected an object (a {api.name} response describes one item), "
                    f"found {describe_json(wrapper)}",
                )
            )
            return
    elif wrapper not in ({}, [], "") and not (
        isinstance(wrapper, dict) and isinstance(wrapper.get(inner), list)
    ):
        problems.append(
            Problem(
                file,
                f"{base}/{outer}",
                f'expected {{"{inner}": [...]}}, found {describe_json(wrapper)}',
            )
        )
        return
    number = body.get("PageNumber")
    if isinstance(number, str) and number.isdigit():
        number = int(number)
    order = (number if isinstance(number, int) and not page else page or call.index, file)
    # Pages of one query: the same command line but the paging, else the same file name
    # but the `.pageN` part (a bundle's entries without command lines are one query).
    if call.api is not None:
        query = query_of(api.name, call.params)
    else:
        query = ".".join(p for p in parts if not _PAGE.fullmatch(p)) or api.name
    export.responses.append(
        Response(
            file,
            base,
            body,
            api,
            call.region,
            call.region_from,
            call.params,
            qualifier,
            query,
            order,
        )
    )


def _unrecognised(body: dict[str, Any]) -> str:
    if "Code" in body and "Message" in body:
        return (
            f"an error response ({body.get('Code')}: {body.get('Message')}), not data: "
            "export the call again"
        )
    known = ", ".join(sorted(APIS))
    return (
        f"not a response of an ECS, VPC, RAM or KMS API policyengine reads: found {_keys(body)}; "
        f"the APIs it reads are {known}"
    )


def _keys(body: dict[str, Any]) -> str:
    keys = [k for k in body if k != "RequestId"][:6]
    return "keys " + ", ".join(f"`{k}`" for k in keys) if keys else "no data keys"


def _read_text(path: Path, name: str, confine: Confinement | None = None) -> str:
    return read_input(path, name, confine)


def _join(folder: str, rel: str) -> str:
    return f"{folder.rstrip('/')}/{rel}"
