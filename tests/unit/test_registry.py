"""The registry client against a local HTTP fixture speaking the token handshake."""

import base64
import json
from pathlib import Path

import pytest
from registry_fixture import FakeRegistryState, fake_registry

from tooling.errors import ToolError
from tooling.imagename import parse_image_name
from tooling.localregistry import free_loopback_port
from tooling.registry import RegistryClient, parse_challenge

NAME = "hardened-temporal/temporal-server"


def test_lists_tags_across_pages_with_a_token() -> None:
    tags = ["1.31.2-1", "1.31.2-2", "1.31.2-10", "latest", "1.30.6-3"]
    state = FakeRegistryState(tags={NAME: tags}, page_size=2)
    with fake_registry(state) as host:
        client = RegistryClient(parse_image_name(f"{host}/{NAME}"))
        assert sorted(client.list_tags()) == sorted(tags)
    # One token, asked with the service and scope of the challenge, reused for every page.
    assert state.token_requests == [{"service": "fixture", "scope": f"repository:{NAME}:pull"}]


def test_unknown_repository_has_no_tags() -> None:
    with fake_registry(FakeRegistryState(tags={})) as host:
        assert RegistryClient(parse_image_name(f"{host}/{NAME}")).list_tags() == []


def test_refused_token_is_a_clear_error() -> None:
    state = FakeRegistryState(tags={NAME: ["1.31.2-1"]}, grant_tokens=False)
    with fake_registry(state) as host, pytest.raises(ToolError) as caught:
        RegistryClient(parse_image_name(f"{host}/{NAME}")).list_tags()
    assert f"registry {host} refused a token for {NAME} (401" in str(caught.value)


def test_unreachable_registry_is_a_clear_error() -> None:
    host = f"127.0.0.1:{free_loopback_port()}"
    with pytest.raises(ToolError, match=rf"registry {host} not reachable at http://{host}"):
        RegistryClient(parse_image_name(f"{host}/{NAME}")).list_tags()


def test_manifest_digest() -> None:
    digest = "sha256:" + "ab" * 32
    state = FakeRegistryState(tags={NAME: ["1.31.2-1"]}, digests={(NAME, "1.31.2-1"): digest})
    with fake_registry(state) as host:
        client = RegistryClient(parse_image_name(f"{host}/{NAME}"))
        assert client.manifest_digest("1.31.2-1") == digest
        assert client.manifest_digest("1.31.2-2") is None


def test_parse_challenge() -> None:
    scheme, params = parse_challenge(
        'Bearer realm="https://auth.example/token",service="registry.example",'
        'scope="repository:a/b:pull"'
    )
    assert scheme == "bearer"
    assert params == {
        "realm": "https://auth.example/token",
        "service": "registry.example",
        "scope": "repository:a/b:pull",
    }


def test_basic_auth_uses_docker_login_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = base64.b64encode(b"ci:s3cret").decode()
    state = FakeRegistryState(tags={NAME: ["1.31.2-1"]}, basic_auth=secret)
    with fake_registry(state) as host:
        client = RegistryClient(parse_image_name(f"{host}/{NAME}"))
        monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
        with pytest.raises(ToolError, match=rf"registry {host} refused access \(401"):
            client.list_tags()  # no `docker login` yet
        (tmp_path / "config.json").write_text(json.dumps({"auths": {host: {"auth": secret}}}))
        assert client.list_tags() == ["1.31.2-1"]
