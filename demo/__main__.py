"""``python -m demo`` (``make demo``): the main job of the project in one command.

Ingests a bundled corpus into Vectorize, answers questions with a RAG chain, runs a tool-using agent,
repeats a question through AI Gateway to show a cache hit, and prints the run's usage and cost. On the
local emulator by default; against Cloudflare when CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN are set.
Any failure ends in one readable line (exit 1 for configuration and credential problems, 2 otherwise).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import traceback
from collections.abc import Sequence

from cf_core import AuthenticationError, CloudflareError, ConfigurationError, PermissionDeniedError

from .backend import BACKEND_ENV, Backend, select_backend
from .corpus import load_corpus
from .printing import Printer

DEBUG_ENV = "CF_DEMO_DEBUG"
EXIT_CONFIG, EXIT_FAILED, EXIT_INTERRUPTED = 1, 2, 130


def _banner(backend: Backend, out: Printer) -> None:
    lines = [f"Backend: {backend.where}."]
    if backend.stand_ins:
        lines.append("The emulator's models are STAND-INS: deterministic engines that speak Cloudflare's wire "
                     "format, not real models. Their answers are labelled [stand-in] and say nothing about model "
                     "quality; token counts and costs show the accounting only.")
    if backend.is_local:
        lines.append("To run the same demo against Cloudflare, set CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN.")
    else:
        if not backend.stand_ins:
            lines.append("Calls use real models and are billed in neurons.")
        lines.append(f"A temporary index {backend.index_name!r} is created and deleted at the end. Set "
                     f"{BACKEND_ENV}=emulator to run offline instead.")
    out.banner(lines)


def _cleanup(backend: Backend, out: Printer) -> None:
    if not backend.is_local and backend.index_created:
        try:
            backend.client.vectorize.delete_index(backend.index_name)
            out.line(f"  deleted index {backend.index_name!r}")
        except CloudflareError as exc:
            if getattr(exc, "status", None) != 404 and getattr(exc, "code", None) != 3000:
                out.line(f"  could not delete index {backend.index_name!r}: {exc} (delete it by hand)")
    asyncio.run(backend.aclose())


def run(out: Printer, *, force_emulator: bool = False) -> None:
    from . import steps  # imports LangChain: after the configuration has been checked

    started = time.perf_counter()
    backend = select_backend(force_emulator=force_emulator)
    _banner(backend, out)
    try:
        session = steps.Session.open(backend, out)
        docs = load_corpus()
        out.section(f"Ingest {len(docs)} documents into Vectorize")
        steps.ingest(session, docs)
        out.section("RAG: three questions answered from the index")
        steps.rag(session)
        out.section("Agent with tools (Vectorize search, sentiment classification)")
        steps.agent(session)
        out.section("AI Gateway: the same question twice, the second from the gateway's cache")
        steps.gateway_cache(session)
        out.section("Usage, neurons and estimated cost")
        steps.usage(session)
    finally:
        _cleanup(backend, out)
    out.line()
    out.line(f"Done in {time.perf_counter() - started:.1f} s on {'the emulator' if backend.stand_ins else 'Cloudflare'}.")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m demo", description="Ingest, RAG, an agent, AI Gateway caching and the run's cost, on the "
        "local emulator, or on Cloudflare when CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN are set.")
    parser.add_argument("--emulator", action="store_true",
                        help=f"use the local emulator even when credentials are set (same as {BACKEND_ENV}=emulator)")
    args = parser.parse_args(argv)
    out = Printer()
    try:
        run(out, force_emulator=args.emulator)
        return 0
    except KeyboardInterrupt:
        print("\ndemo: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, and keep Python from complaining at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED
    except BaseException as exc:
        if os.environ.get(DEBUG_ENV):
            traceback.print_exc()
        if isinstance(exc, ConfigurationError):
            print(f"demo: configuration error: {_one_line(exc)}", file=sys.stderr)
            return EXIT_CONFIG
        if isinstance(exc, AuthenticationError | PermissionDeniedError):
            print(f"demo: Cloudflare refused the credentials: {_one_line(exc)}. Check CLOUDFLARE_ACCOUNT_ID and "
                  "that CLOUDFLARE_API_TOKEN has Workers AI and Vectorize permissions.", file=sys.stderr)
            return EXIT_CONFIG
        if isinstance(exc, CloudflareError):
            print(f"demo: failed: {type(exc).__name__}: {_one_line(exc)}", file=sys.stderr)
            return EXIT_FAILED
        if isinstance(exc, SystemExit):
            raise
        print(f"demo: unexpected error: {type(exc).__name__}: {_one_line(exc)} "
              f"(set {DEBUG_ENV}=1 for the traceback)", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
