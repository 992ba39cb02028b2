"""Calls through the official Alibaba Cloud SDKs (`alibabacloud-ecs20140526`,
`alibabacloud-vpc20160428`, `alibabacloud-ram20150501`, `alibabacloud-kms20160120` on
`alibabacloud-tea-openapi`),
with the standard credential chain of `alibabacloud-credentials`: environment variables,
the `aliyun` CLI's profile file, an ECS RAM role, STS.

The SDKs are imported when the first call is made, so that the rest of policyengine starts
without them (`pip install 'policyengine[collect]'`). Each response is the API's JSON as
the SDK's response model reads it: the field names the importer reads.
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from policyengine.collect.calls import Product

EXTRA = "pip install 'policyengine[collect]'"
_MODULES = {
    Product.ECS: "alibabacloud_ecs20140526",
    Product.VPC: "alibabacloud_vpc20160428",
    Product.RAM: "alibabacloud_ram20150501",
    Product.KMS: "alibabacloud_kms20160120",
}


_VERSIONS = {
    Product.ECS: "2014-05-26",
    Product.VPC: "2016-04-28",
    Product.RAM: "2015-05-01",
    Product.KMS: "2016-01-20",
}


class MissingSdk(Exception):
    """The SDK packages are not installed."""


class CallFailed(Exception):
    """A call the API answered with an error, or that never got an answer."""

    def __init__(self, code: str, message: str, status: int | None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status

    @property
    def retryable(self) -> bool:
        """Throttling, a server error or no answer: the same call may succeed later."""
        return self.code.startswith("Throttling") or self.status is None or self.status >= 500


@dataclass(frozen=True)
class Retry:
    attempts: int = 5  # calls in all, the first included
    backoff: float = 0.5  # seconds before the first retry; doubled each time
    most: float = 20.0  # never more than this between two calls

    def run(
        self, call: Callable[[], dict[str, Any]], sleep: Callable[[float], None] = time.sleep
    ) -> dict[str, Any]:
        for attempt in range(self.attempts):
            try:
                return call()
            except CallFailed as failed:
                if not failed.retryable or attempt + 1 == self.attempts:
                    raise
                sleep(min(self.most, self.backoff * 2**attempt))
        raise AssertionError("unreachable")  # the loop returns or raises


class Sdk:
    """One client per product and region, made on first use; safe to share by threads."""

    def __init__(self, endpoint: str | None = None, timeout: float = 30.0) -> None:
        self.endpoint = endpoint
        self.timeout_ms = int(timeout * 1000)
        self._clients: dict[tuple[Product, str | None], Any] = {}
        self._lock = threading.Lock()
        self._credential: Any = None

    def _import(self, name: str) -> Any:
        try:
            return importlib.import_module(name)
        except ImportError as exc:
            raise MissingSdk(f"collect needs the Alibaba Cloud SDKs: {EXTRA} ({exc})") from None

    def _client(self, product: Product, region: str | None) -> Any:
        key = (product, region)
        with self._lock:
            found = self._clients.get(key)
            if found is not None:
                return found
            openapi = self._import("alibabacloud_tea_openapi.utils_models")
            if self._credential is None:
                credentials = self._import("alibabacloud_credentials.client")
                self._credential = credentials.Client()  # the standard chain
            config = openapi.Config(
                credential=self._credential,
                region_id=region or "cn-hangzhou",
                read_timeout=self.timeout_ms,
                connect_timeout=self.timeout_ms,
            )
            if self.endpoint:
                where = urlsplit(
                    self.endpoint if "//" in self.endpoint else f"https://{self.endpoint}"
                )
                config.endpoint = where.netloc
                config.protocol = where.scheme or "https"
            client = self._import(f"{_MODULES[product]}.client").Client(config)
            self._clients[key] = client
            return client

    def call(
        self, product: Product, api: str, region: str | None, params: dict[str, Any]
    ) -> dict[str, Any]:
        """One call; the response body as the API names its fields. Raises CallFailed."""
        client = self._client(product, region)
        models = self._import(f"{_MODULES[product]}.models")
        openapi = self._import("alibabacloud_tea_openapi.utils_models")
        runtime = self._import("darabonba.runtime").RuntimeOptions(autoretry=False)
        # The SDK's request model checks the parameters' names and types; the call is
        # the one the SDK's own method makes. The body is kept as the API sent it (as the
        # `aliyun` CLI prints it), not as this SDK version's response model reads it,
        # which would drop fields newer than the model.
        request = getattr(models, f"{api}Request")().from_map(params)
        request.validate()
        query = {k: str(v) for k, v in request.to_map().items() if v is not None}
        call = openapi.Params(
            action=api,
            version=_VERSIONS[product],
            protocol="HTTPS",
            pathname="/",
            method="POST",
            auth_type="AK",
            style="RPC",
            req_body_type="formData",
            body_type="json",
        )
        try:
            response = client.call_api(call, openapi.OpenApiRequest(query=query), runtime)
        except Exception as exc:  # the SDK's errors have no common base class of their own
            raise _failure(exc) from None
        body = response.get("body") if isinstance(response, dict) else None
        return body if isinstance(body, dict) else {}


def _failure(exc: Exception) -> CallFailed:
    code = getattr(exc, "code", None)
    status = getattr(exc, "status_code", None) or getattr(exc, "statusCode", None)
    message = getattr(exc, "message", None) or str(exc)
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int):
        status = None
    if not code:
        code = type(exc).__name__  # no answer: a connection refused, a timeout
    return CallFailed(str(code), str(message).splitlines()[0][:300] if message else "", status)
