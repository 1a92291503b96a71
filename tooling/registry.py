"""A small client for the registry HTTP API (distribution v2), stdlib only.

It lists tags (`GET /v2/<name>/tags/list`, following `Link` pagination) and reads a
manifest digest (`HEAD /v2/<name>/manifests/<tag>`). When the registry answers 401 with
`WWW-Authenticate: Bearer realm=...,service=...,scope=...`, it fetches a token from the
realm (anonymously, or with the credentials `docker login` stored in the Docker config
file) and retries once: the handshake Docker Hub, GHCR and most registries use.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path

from tooling.errors import ToolError
from tooling.imagename import DOCKER_HUB, ImageName

MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')
_NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


@dataclass(frozen=True)
class Response:
    status: int
    headers: Message
    body: bytes


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """`Bearer realm="r",service="s"` → ("bearer", {"realm": "r", "service": "s"})."""
    scheme, _, params = header.strip().partition(" ")
    return scheme.lower(), dict(_CHALLENGE_PARAM.findall(params))


def docker_config_credentials(registry: str) -> str | None:
    """The base64 `user:password` that `docker login` stored for `registry`, if any."""
    config_dir = Path(os.environ.get("DOCKER_CONFIG", Path.home() / ".docker"))
    try:
        config = json.loads((config_dir / "config.json").read_text())
    except (OSError, ValueError):
        return None
    keys = [registry]
    if registry == DOCKER_HUB:
        keys += ["https://index.docker.io/v1/", "index.docker.io"]
    for key in keys:
        auth = config.get("auths", {}).get(key, {}).get("auth")
        if isinstance(auth, str) and auth:
            return auth
    return None


@dataclass
class RegistryClient:
    image: ImageName
    timeout: float = 30.0
    _authorization: str | None = field(default=None, repr=False)

    def _open(self, request: urllib.request.Request) -> Response:
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return Response(response.status, response.headers, response.read())
        except urllib.error.HTTPError as err:
            return Response(err.code, err.headers, err.read())
        except (urllib.error.URLError, OSError) as err:
            reason = getattr(err, "reason", err)
            raise ToolError(
                f"registry {self.image.registry} not reachable at {self.image.api_url}: {reason}"
            ) from None

    def _request(self, method: str, path_or_url: str, accept: str | None = None) -> Response:
        url = path_or_url if "://" in path_or_url else self.image.api_url + path_or_url
        for attempt in range(2):
            headers = {"Accept": accept} if accept else {}
            if self._authorization:
                headers["Authorization"] = self._authorization
            response = self._open(urllib.request.Request(url, method=method, headers=headers))
            if response.status != 401 or attempt == 1:
                return response
            self._authorization = self._answer_challenge(
                response.headers.get("WWW-Authenticate", "")
            )
        raise AssertionError("unreachable")

    def _answer_challenge(self, challenge: str) -> str:
        """The Authorization header that answers a 401's WWW-Authenticate challenge."""
        scheme, params = parse_challenge(challenge)
        credentials = docker_config_credentials(self.image.registry)
        if scheme == "basic" and credentials:
            return f"Basic {credentials}"
        if scheme != "bearer" or "realm" not in params:
            raise ToolError(
                f"registry {self.image.registry} refused access (401, challenge {challenge!r}): "
                "log in with `docker login` or use a registry that allows anonymous reads"
            )
        query = {k: v for k, v in params.items() if k in ("service", "scope")}
        query.setdefault("scope", f"repository:{self.image.repository}:pull")
        url = f"{params['realm']}?{urllib.parse.urlencode(query)}"
        headers = {}
        if credentials:
            headers["Authorization"] = f"Basic {credentials}"
        response = self._open(urllib.request.Request(url, headers=headers))
        if response.status != 200:
            raise ToolError(
                f"registry {self.image.registry} refused a token for "
                f"{self.image.repository} ({response.status} from {params['realm']})"
            )
        try:
            data = json.loads(response.body)
            token = data.get("token") or data.get("access_token")
        except ValueError:
            token = None
        if not isinstance(token, str) or not token:
            raise ToolError(f"token endpoint {params['realm']} answered without a token")
        return f"Bearer {token}"

    def _refused(self, response: Response, what: str) -> ToolError:
        detail = response.body.decode(errors="replace").strip()[:300]
        return ToolError(
            f"registry {self.image.registry} refused {what} for {self.image.repository} "
            f"(HTTP {response.status}): {detail}"
        )

    def list_tags(self) -> list[str]:
        """Every tag of the repository; an unknown repository has none."""
        tags: list[str] = []
        url: str | None = f"/v2/{self.image.repository}/tags/list?n=1000"
        while url:
            response = self._request("GET", url)
            if response.status == 404:
                return tags
            if response.status != 200:
                raise self._refused(response, "the tag list")
            try:
                found = json.loads(response.body).get("tags") or []
            except ValueError:
                raise self._refused(response, "the tag list (not JSON)") from None
            tags.extend(found)
            link = _NEXT_LINK.search(response.headers.get("Link", ""))
            url = urllib.parse.urljoin(self.image.api_url + "/", link[1]) if link else None
        return tags

    def manifest_digest(self, tag: str) -> str | None:
        """The registry's digest of `<name>:<tag>`, or None when the tag does not exist."""
        path = f"/v2/{self.image.repository}/manifests/{tag}"
        response = self._request("HEAD", path, accept=MANIFEST_TYPES)
        if response.status == 404:
            return None
        if response.status != 200:
            raise self._refused(response, f"the manifest of {tag}")
        digest = response.headers.get("Docker-Content-Digest")
        if not digest:
            raise ToolError(f"registry {self.image.registry} sent no Docker-Content-Digest")
        return digest
