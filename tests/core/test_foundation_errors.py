"""Every documented Cloudflare error code and HTTP status maps to its typed exception."""

from __future__ import annotations

import json
import pickle

import httpx
import pytest

import cf_core.errors as E
from cf_core import CloudflareClient
from cf_core.http import ApiRequest, Call, unwrap


def envelope(code: int, message: str = "boom") -> bytes:
    return json.dumps({"result": None, "success": False, "errors": [{"code": code, "message": message}],
                       "messages": []}).encode()


# (status, code, expected class) — reference §4.1 (Workers AI), §6.7 (Vectorize), §7.3/§7.5 (AI Gateway).
CASES = [
    (400, 5007, E.NotFoundError), (400, 5004, E.BadRequestError), (400, 3039, E.BadRequestError),
    (400, 3003, E.BadRequestError), (403, 5018, E.PermissionDeniedError), (403, 5016, E.PermissionDeniedError),
    (403, 3023, E.PermissionDeniedError), (403, 3041, E.PermissionDeniedError), (405, 5019, E.BadRequestError),
    (405, 5005, E.BadRequestError), (404, 3042, E.NotFoundError), (413, 3006, E.PayloadTooLargeError),
    (408, 3007, E.TimeoutError), (408, 3008, E.TimeoutError), (429, 3036, E.QuotaExceededError),
    (429, 4006, E.QuotaExceededError), (429, 3040, E.CapacityError), (400, 5006, E.BadRequestError),
    (401, 10000, E.AuthenticationError), (403, 10000, E.AuthenticationError),
    (400, 3000, E.NotFoundError), (409, 3002, E.ConflictError), (400, 3005, E.BadRequestError),
    (401, 2009, E.GatewayAuthenticationError), (424, 2016, E.GuardrailsError), (424, 2017, E.GuardrailsError),
    (400, 2029, E.DLPError), (400, 2030, E.DLPError), (429, 2003, E.GatewayRateLimitError),
    (500, 10001, E.ServerError), (503, 12345, E.ServerError), (429, 99999, E.RateLimitError),
]


@pytest.mark.parametrize(("status", "code", "cls"), CASES)
def test_code_maps_to_class(status: int, code: int, cls: type[E.APIError]) -> None:
    err = E.error_from_response(status, {"cf-ray": "ray-1"}, envelope(code, f"message {code}"))
    assert type(err) is cls
    assert err.status == status and err.code == code
    assert err.message == f"message {code}" and err.request_id == "ray-1"
    assert f"code {code}" in str(err) and f"HTTP {status}" in str(err)


def test_gateway_singular_error_key() -> None:
    body = json.dumps({"success": False, "error": [{"code": 2009, "message": "Unauthorized"}]}).encode()
    err = E.error_from_response(401, {}, body)
    assert isinstance(err, E.GatewayAuthenticationError) and isinstance(err, E.AuthenticationError)
    assert err.code == 2009


def test_vectorize_text_errors_are_bad_requests() -> None:
    err = E.error_from_response(400, {}, envelope(40006, "VECTOR_QUERY_ERROR (code = 40006): invalid query vector"))
    assert isinstance(err, E.BadRequestError) and err.code == 40006


@pytest.mark.parametrize(("body", "ctype", "needle"), [
    (b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>", "text/html", "HTML"),
    (b'{"result": {"respon', "application/json", "non-JSON"),
    (b"", "text/plain", "empty body"),
])
def test_non_json_error_bodies(body: bytes, ctype: str, needle: str) -> None:
    err = E.error_from_response(502, {"content-type": ctype}, body)
    assert isinstance(err, E.ServerError)
    assert needle in str(err) and err.code is None


def test_retry_after_is_parsed() -> None:
    err = E.error_from_response(429, {"Retry-After": "7"}, envelope(3040))
    assert isinstance(err, E.RateLimitError) and err.retry_after == 7.0


def test_errors_pickle_with_their_attributes() -> None:
    err = E.error_from_response(429, {"retry-after": "2", "cf-ray": "r"}, envelope(3040, "busy"))
    clone = pickle.loads(pickle.dumps(err))
    assert type(clone) is E.CapacityError
    assert (clone.status, clone.code, clone.message, clone.request_id) == (429, 3040, "busy", "r")
    partial = E.PartialWriteError("half", written_ids=["a"], failed_ids=["b"])
    clone2 = pickle.loads(pickle.dumps(partial))
    assert clone2.written_ids == ["a"] and clone2.failed_ids == ["b"]


def test_http_200_with_success_false_is_an_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=envelope(5006, "AiError: Bad input"))

    client = CloudflareClient(account_id="a", api_token="t", transport=httpx.MockTransport(handler), max_retries=0)
    with pytest.raises(E.BadRequestError, match="Bad input"):
        client.run(Call(ApiRequest("POST", "/ai/run/@cf/x", json={}), unwrap))
    client.close()
