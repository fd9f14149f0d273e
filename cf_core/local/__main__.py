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
        return int(status), float(fraction)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected STATUS=FRACTION, e.g. 503=0.1, got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m cf_core.local",
                                     description="Local emulator of Cloudflare Workers AI, Vectorize, KV and AI Gateway.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the emulator over HTTP")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, loopback only)")
    serve.add_argument("--port", type=int, default=8787)
    serve.add_argument("--data", type=Path, default=None, help="directory for persistent Vectorize/KV data")
    serve.add_argument("--token", action="append", default=None,
                       help="accepted API token (repeatable; default: any non-empty token)")
    serve.add_argument("--latency-ms", type=float, default=0.0, help="latency added to every request")
    serve.add_argument("--error-rate", type=_rate, action="append", default=[], metavar="STATUS=FRACTION")
    serve.add_argument("--drop-rate", type=float, default=0.0, help="fraction of connections dropped")
    serve.add_argument("--seed", type=int, default=0)
    serve.add_argument("--rate-limits", action="store_true", help="enforce Workers AI per-task rate limits")
    serve.add_argument("--mutation-delay", type=float, default=0.0, help="seconds before a Vectorize write applies")
    serve.add_argument("--lenient-metadata-index", action="store_true",
                       help="let Vectorize filters see properties without a metadata index")
    serve.add_argument("--chat-engine-url", default=None, help="OpenAI-compatible server for chat instead of the stand-in")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    faults = FaultConfig(latency_ms=args.latency_ms, error_rates=dict(args.error_rate),
                         drop_rate=args.drop_rate, seed=args.seed)
    if args.data is not None:
        args.data.mkdir(parents=True, exist_ok=True)
    config = EmulatorConfig(tokens=set(args.token) if args.token else None, data_dir=args.data, seed=args.seed,
                            rate_limits=args.rate_limits, mutation_delay_s=args.mutation_delay,
                            strict_metadata_index=not args.lenient_metadata_index,
                            chat_engine_url=args.chat_engine_url, faults=faults)
    emulator = Emulator(config)
    from .server import serve_forever

    host = f"[{args.host}]" if ":" in args.host else args.host
    print("Cloudflare emulator (stand-in models; not Cloudflare)", flush=True)
    print(f"  CLOUDFLARE_BASE_URL=http://{host}:{args.port}/client/v4", flush=True)
    print(f"  CLOUDFLARE_AI_GATEWAY_BASE_URL=http://{host}:{args.port}/v1", flush=True)
    serve_forever(emulator, args.host, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
