"""Management and logs API on ``api.cloudflare.com`` (``/accounts/{account}/ai-gateway/...``)."""

from __future__ import annotations

import math
from typing import Any

from ..wire import ApiError, EmuRequest, EmuResponse, envelope
from .errors import MGMT_NOT_FOUND, mgmt_invalid
from .logquery import DELETE_ORDER, LIST_ORDER, build_predicate, order, page
from .logs import LogEntry
from .options import MAX_METADATA_ENTRIES
from .state import GatewayState

BASE = "/accounts/{account}/ai-gateway/gateways"
MAX_GATEWAY_PAGE = 100


class ManagementRoutes:
    def __init__(self, state: GatewayState) -> None:
        self.state = state

    def install(self) -> None:
        api = self.state.emulator.api
        api.add("GET", BASE, self.list_gateways)
        api.add("POST", BASE, self.create_gateway)
        api.add("GET", BASE + "/{gateway}", self.get_gateway)
        api.add("PUT", BASE + "/{gateway}", self.update_gateway)
        api.add("DELETE", BASE + "/{gateway}", self.delete_gateway)
        api.add("GET", BASE + "/{gateway}/url/{provider}", self.gateway_url)
        api.add("GET", BASE + "/{gateway}/logs", self.list_logs)
        api.add("DELETE", BASE + "/{gateway}/logs", self.delete_logs)
        api.add("GET", BASE + "/{gateway}/logs/{log_id}", self.get_log)
        api.add("PATCH", BASE + "/{gateway}/logs/{log_id}", self.edit_log)
        api.add("GET", BASE + "/{gateway}/logs/{log_id}/request", self.log_request)
        api.add("GET", BASE + "/{gateway}/logs/{log_id}/response", self.log_response)

    # -- gateways ---------------------------------------------------------------------------------

    def list_gateways(self, req: EmuRequest) -> EmuResponse:
        found = self.state.list(req.params["account"])
        search = req.query.get("search")
        if search:
            found = [g for g in found if search.lower() in g.id.lower()]
        number, size = page(req.query)
        size = min(size, MAX_GATEWAY_PAGE)
        chunk = found[(number - 1) * size: number * size]
        return envelope([g.to_dict() for g in chunk], result_info={
            "page": number, "per_page": size, "count": len(chunk), "total_count": len(found)})

    def create_gateway(self, req: EmuRequest) -> EmuResponse:
        return envelope(self.state.create(req.params["account"], req.json_object()).to_dict())

    def get_gateway(self, req: EmuRequest) -> EmuResponse:
        return envelope(self.state.get(req.params["account"], req.params["gateway"]).to_dict())

    def update_gateway(self, req: EmuRequest) -> EmuResponse:
        settings = self.state.update(req.params["account"], req.params["gateway"], req.json_object())
        return envelope(settings.to_dict())

    def delete_gateway(self, req: EmuRequest) -> EmuResponse:
        return envelope(self.state.delete(req.params["account"], req.params["gateway"]).to_dict())

    def gateway_url(self, req: EmuRequest) -> EmuResponse:
        account, gateway = req.params["account"], req.params["gateway"]
        self.state.get(account, gateway)
        host = req.headers.get("host")
        origin = f"http://{host}" if host else "https://gateway.ai.cloudflare.com"
        return envelope(f"{origin}/v1/{account}/{gateway}/{req.params['provider']}")

    # -- logs -------------------------------------------------------------------------------------

    def _store_entries(self, req: EmuRequest) -> list[LogEntry]:
        account, gateway = req.params["account"], req.params["gateway"]
        self.state.get(account, gateway)
        return self.state.logs((account, gateway)).snapshot()

    def _entry(self, req: EmuRequest) -> LogEntry:
        account, gateway = req.params["account"], req.params["gateway"]
        self.state.get(account, gateway)
        entry = self.state.logs((account, gateway)).get(req.params["log_id"])
        if entry is None:
            raise ApiError(404, MGMT_NOT_FOUND, f"Log {req.params['log_id'][:80]!r} not found")
        return entry

    def list_logs(self, req: EmuRequest) -> EmuResponse:
        predicate = build_predicate(req.query)
        matched = order([e for e in self._store_entries(req) if predicate(e)], req.query, LIST_ORDER)
        number, size = page(req.query)
        chunk = matched[(number - 1) * size: number * size]
        return envelope([e.list_view() for e in chunk], result_info={
            "page": number, "per_page": size, "count": len(chunk), "total_count": len(matched)})

    def delete_logs(self, req: EmuRequest) -> EmuResponse:
        predicate = build_predicate(req.query)
        matched = order([e for e in self._store_entries(req) if predicate(e)], req.query, DELETE_ORDER)
        if "limit" in req.query:
            try:
                limit = int(req.query["limit"])
            except ValueError:
                raise mgmt_invalid("limit: expected an integer") from None
            if limit < 1:
                raise mgmt_invalid("limit: must be at least 1")
            matched = matched[:limit]
        store = self.state.logs((req.params["account"], req.params["gateway"]))
        deleted = store.delete(e.id for e in matched)
        return envelope({"deleted": deleted})

    def get_log(self, req: EmuRequest) -> EmuResponse:
        return envelope(self._entry(req).detail_view())

    def edit_log(self, req: EmuRequest) -> EmuResponse:
        entry = self._entry(req)
        body = req.json_object()
        unknown = sorted(set(body) - {"feedback", "score", "metadata"})
        if unknown:
            raise mgmt_invalid(f"unknown field(s): {', '.join(unknown)}")
        changes: dict[str, Any] = {}
        if "feedback" in body:
            changes["feedback"] = _feedback(body["feedback"])
        if "score" in body:
            changes["score"] = _score(body["score"])
        if "metadata" in body:
            changes["metadata"] = _metadata(body["metadata"])

        def apply(e: LogEntry) -> None:
            for name, value in changes.items():
                setattr(e, name, value)

        self.state.logs((req.params["account"], req.params["gateway"])).update(entry.id, apply)
        return envelope(entry.list_view())

    def log_request(self, req: EmuRequest) -> EmuResponse:
        entry = self._entry(req)
        return _payload(entry.request_body, entry.request_content_type, "request")

    def log_response(self, req: EmuRequest) -> EmuResponse:
        entry = self._entry(req)
        return _payload(entry.response_body, entry.response_content_type, "response")


def _payload(body: bytes | None, content_type: str | None, what: str) -> EmuResponse:
    """The stored body itself, not wrapped in the envelope (the official SDK reads it raw)."""
    if body is None:
        raise ApiError(404, MGMT_NOT_FOUND, f"The {what} body of this log was not stored "
                                            "(cf-aig-collect-log-payload: false)")
    return EmuResponse(200, {"content-type": content_type or "application/octet-stream"}, body)


def _feedback(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value not in (-1, 0, 1):
        raise mgmt_invalid("feedback: must be -1, 0, 1 or null")
    return int(value)


def _score(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or not 0 <= value <= 100:
        raise mgmt_invalid("score: must be a number between 0 and 100, or null")
    return float(value)


def _metadata(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise mgmt_invalid("metadata: expected an object of strings, numbers or booleans")
    if len(value) > MAX_METADATA_ENTRIES:
        raise mgmt_invalid(f"metadata: at most {MAX_METADATA_ENTRIES} entries, got {len(value)}")
    for key, item in value.items():
        if not (isinstance(item, str | bool) or (isinstance(item, int | float) and math.isfinite(item))):
            raise mgmt_invalid(f"metadata.{key}: expected a string, number or boolean")
    return dict(value)
