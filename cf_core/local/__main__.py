"""``python -m cf_core.local serve``: run the emulator on loopback."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .emulator import Emulator, EmulatorConfig
from .faults import FaultConfig


def _rate(text: str) -> tuple[int, float]:
    status, _, fraction = text.partition("=")
    try:
        code, rate = int(status), float(fraction)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected STATUS=FRACTION, e.g. 503=0.1, got {text!r}") from None
    if not 400 <= code <= 599 or not 0.0 <= rate <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a 4xx/5xx status and a fraction in [0, 1], got {text!r}")
    return code, rate


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1], got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1], got {text!r}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port between 0 and 65535, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m cf_core.local",
                                     description="Local emulator of Cloudflare Workers AI, Vectorize, KV and AI Gateway.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the emulator over HTTP")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, loopback only)")
    serve.add_argument("--port", type=_port, default=8787, help="port (default 8787; 0 picks a free one)")
    serve.add_argument("--data", type=Path, default=None, help="directory for persistent Vectorize/KV data")
    serve.add_argument("--token", action="append", default=None,
                       help="accepted API token (repeatable; default: any non-empty token)")
    serve.add_argument("--forbidden-token", action="append", default=[],
                       help="token that authenticates but lacks permission (answered 403; repeatable)")
    serve.add_argument("--max-body-bytes", type=int, default=100 * 1024 * 1024,
                       help="larger request bodies are answered 413 (code 3006)")
    faults = serve.add_argument_group("fault injection")
    faults.add_argument("--latency-ms", type=float, default=0.0, help="latency added to every request")
    faults.add_argument("--error-rate", type=_rate, action="append", default=[], metavar="STATUS=FRACTION",
                        help="answer this fraction of requests with STATUS (repeatable)")
    faults.add_argument("--drop-rate", type=_fraction, default=0.0, help="fraction of connections dropped")
    faults.add_argument("--slow-rate", type=_fraction, default=0.0, help="fraction of requests delayed by --slow-ms")
    faults.add_argument("--slow-ms", type=float, default=0.0, help="extra delay of the slow requests")
    faults.add_argument("--burst-429", type=int, default=0, help="answer the first N requests 429")
    faults.add_argument("--retry-after", type=float, default=1.0, help="Retry-After seconds on injected 429s")
    faults.add_argument("--fault-paths", default="/", help="only paths containing this string meet faults")
    serve.add_argument("--seed", type=int, default=0)
    serve.add_argument("--rate-limits", action="store_true", help="enforce Workers AI per-task rate limits")
    serve.add_argument("--mutation-delay", type=float, default=0.0, help="seconds before a Vectorize write applies")
    serve.add_argument("--lenient-metadata-index", action="store_true",
                       help="let Vectorize filters see properties without a metadata index")
    serve.add_argument("--chat-engine-url", default=None, help="OpenAI-compatible server for chat instead of the stand-in")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    faults = FaultConfig(latency_ms=args.latency_ms, error_rates=dict(args.error_rate),
                         drop_rate=args.drop_rate, slow_rate=args.slow_rate, slow_ms=args.slow_ms,
                         burst_429=args.burst_429, retry_after_s=args.retry_after, paths=args.fault_paths,
                         seed=args.seed)
    try:
        faults.validate()
    except ValueError as exc:
        parser.error(f"fault injection: {exc}")
    if args.data is not None:
        args.data.mkdir(parents=True, exist_ok=True)
    config = EmulatorConfig(tokens=set(args.token) if args.token else None,
                            forbidden_tokens=set(args.forbidden_token), max_body_bytes=args.max_body_bytes,
                            data_dir=args.data, seed=args.seed,
                            rate_limits=args.rate_limits, mutation_delay_s=args.mutation_delay,
                            strict_metadata_index=not args.lenient_metadata_index,
                            chat_engine_url=args.chat_engine_url, faults=faults)
    emulator = Emulator(config)
    from .server import bind, is_loopback, serve_forever

    sock = bind(args.host, args.port)
    port = sock.getsockname()[1]
    host = f"[{args.host}]" if ":" in args.host else args.host
    print("Cloudflare emulator (stand-in models; not Cloudflare)", flush=True)
    if not is_loopback(args.host):
        print(f"  WARNING: listening on {args.host}, reachable from other machines", flush=True)
    print(f"  CLOUDFLARE_BASE_URL=http://{host}:{port}/client/v4", flush=True)
    print(f"  CLOUDFLARE_AI_GATEWAY_BASE_URL=http://{host}:{port}/v1", flush=True)
    try:
        serve_forever(emulator, args.host, port, sock=sock)
    finally:
        emulator.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
