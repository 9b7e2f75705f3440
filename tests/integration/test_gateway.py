"""The local gateway and dev sign-in at their edges: what a browser, curl or a careless client
sends must get the answer API Gateway / an OAuth server would give, never a 501/502 or a hang."""

from __future__ import annotations

import base64
import hashlib
import socket
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

VERIFIER = "v" * 50
CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=").decode()


def _authorize_params(**overrides: str) -> dict[str, str]:
    params = {"response_type": "code", "client_id": "ragline-local", "redirect_uri": "http://127.0.0.1:9/cb",
              "code_challenge": CHALLENGE, "code_challenge_method": "S256", "state": "s"}
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def _raw(stack, request: bytes) -> bytes:
    host, port = urlsplit(stack.web_url).netloc.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):  # the answer may arrive in several segments
            answer += chunk
            if b"\r\n\r\n" in answer and len(answer) >= _expected_length(answer):
                break
        return answer


def _expected_length(answer: bytes) -> int:
    """Bytes of a whole HTTP answer: its head plus the Content-Length it declares."""
    head, _, _ = answer.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            return len(head) + 4 + int(value.strip())
    return len(head) + 4


def test_head_answers_like_get_without_a_body(local_stack):
    response = requests.head(local_stack.api_url + "/health", timeout=10)
    assert response.status_code == 200 and response.content == b""


def test_a_malformed_token_is_401_not_a_gateway_error(local_stack):
    for token in ("a.b.abcde", "a.!!!.abcd", "only-one-part"):
        response = requests.get(local_stack.api_url + "/documents", headers={"Authorization": f"Bearer {token}"},
                                timeout=10)
        assert response.status_code == 401, (token, response.text)


@pytest.mark.parametrize("length", ["abc", "-5"])
def test_an_invalid_content_length_is_400(local_stack, length):
    answer = _raw(local_stack, f"POST /api/query HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.1 400") and b"Content-Length" in answer


def test_a_body_over_api_gateways_limit_is_413_without_reading_it(local_stack):
    answer = _raw(local_stack, b"POST /api/query HTTP/1.1\r\nHost: x\r\nContent-Length: 20000000\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 413") and b"POST /api/documents" in answer


def test_sign_in_form_rejects_a_broken_request_up_front(local_stack):
    base = local_stack.web_url.rstrip("/")
    for overrides in ({"client_id": "evil"}, {"code_challenge": None}, {"redirect_uri": None},
                      {"redirect_uri": "javascript:alert(1)"}):
        response = requests.get(base + "/dev-auth/authorize", params=_authorize_params(**overrides), timeout=10)
        assert response.status_code == 400 and 'role="alert"' in response.text, overrides


def _code(base: str, state: str = "s") -> str:
    response = requests.post(base + "/dev-auth/authorize", params=_authorize_params(state=state),
                             data={"user": "dev", "tenant": "demo"}, allow_redirects=False, timeout=10)
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["state"] == [state], "the state comes back exactly as sent"
    return query["code"][0]


def test_code_exchange_checks_client_verifier_and_single_use(local_stack):
    base = local_stack.web_url.rstrip("/")
    form = {"grant_type": "authorization_code", "redirect_uri": "http://127.0.0.1:9/cb", "client_id": "ragline-local",
            "code_verifier": VERIFIER}
    code = _code(base, state="a&b=c d")
    assert requests.post(base + "/dev-auth/token", data={**form, "code": code, "client_id": "evil"},
                         timeout=10).status_code == 400
    code = _code(base)
    assert requests.post(base + "/dev-auth/token", data={**form, "code": code, "code_verifier": "wrong"},
                         timeout=10).status_code == 400
    code = _code(base)
    ok = requests.post(base + "/dev-auth/token", data={**form, "code": code}, timeout=10)
    assert ok.status_code == 200 and ok.json()["token_type"] == "Bearer"
    reused = requests.post(base + "/dev-auth/token", data={**form, "code": code}, timeout=10)
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    undecodable = requests.post(base + "/dev-auth/token", data=b"\xff\xfe", timeout=10)
    assert undecodable.status_code == 400


def test_only_the_public_routes_answer_without_a_token(local_stack):
    """The same rule as the stack's authorizer: ragline.wiring.PUBLIC_ROUTES, nothing more."""
    from ragline.wiring import PUBLIC_ROUTES

    assert PUBLIC_ROUTES == {("GET", "/health")}
    assert requests.get(local_stack.api_url + "/health", timeout=10).status_code == 200
    assert requests.get(local_stack.api_url + "/openapi.json", timeout=10).status_code == 401
    token = local_stack.client().token
    signed_in = requests.get(local_stack.api_url + "/openapi.json", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert signed_in.status_code == 200 and signed_in.json()["openapi"].startswith("3.")
