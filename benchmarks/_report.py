"""Turn one run's results into ``results.md`` and PNG plots (matplotlib, Agg backend)."""

from __future__ import annotations

import math
import os
import platform
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from . import _data as D
from . import calls as C
from . import ingest as I

MiB = 1024 * 1024
PACKAGES = ("cloudflare-ai-integrations", "langchain-cloudflare", "llama-index-embeddings-cloudflare-workersai",
            "langchain-core", "llama-index-core", "httpx", "requests", "numpy")
RATE_MODES = (("rate_limits_off", "rate limits off"), ("rate_limits_on", "rate limits on"))


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _verdict(measured: float | None, goal: float, higher_is_better: bool) -> str:
    if measured is None or math.isnan(measured):
        return "not measured"
    if higher_is_better:
        return "met" if measured >= goal else f"**missed** by {goal / measured:.2f}x (needs {goal:g}x)"
    return "met" if measured <= goal else f"**missed** by {measured / goal:.2f}x (limit {goal:g}x)"


def _versions() -> str:
    out = []
    for name in PACKAGES:
        try:
            out.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return ", ".join(out)


# -- ingest -----------------------------------------------------------------------------------------

def _ingest_rows(results: dict[str, Any], mode: str) -> dict[str, dict[str, Any]]:
    return {r["contender"]: r for r in results.get("ingest", []) if r["mode"] == mode}


def _rate_limit_rpm() -> int:
    from cf_core import catalog

    return catalog.info(D.EMBED_MODEL).rate_limit_rpm or 0


def _ingest_section(results: dict[str, Any]) -> tuple[list[str], list[tuple[str, str, str, str]]]:
    chunks = results["settings"]["chunks"]
    rpm = _rate_limit_rpm()
    bound = I.bound_seconds(chunks, rpm, writes=True) if rpm else float("nan")
    bound_embed = I.bound_seconds(chunks, rpm, writes=False) if rpm else float("nan")
    lines = ["## 1. Bulk ingest", "",
             f"{chunks:,} synthetic chunks ({D.CHUNK_WORDS[0]}-{D.CHUNK_WORDS[1]} words, seeded), `{D.EMBED_MODEL}` (768 dims), emulator on "
             f"127.0.0.1 with {results['settings']['latency_ms']:g} ms added to every request. "
             f"Each contender ran {results['settings'].get('repeats', 1)} time(s), in turn with the others; a row is "
             "its run of median time (seconds: that run, then the range of all runs). "
             "Requests are counted by the emulator; memory is the contender process's peak RSS above its "
             "level just before the job; \"arrived\" is checked in the emulator's store (ids), or by "
             "counting 768-dim vectors for embed-only contenders.", "",
             f"Rate-limit bound: `{D.EMBED_MODEL}` allows {rpm:,} requests/min; the fewest requests are "
             f"{-(-chunks // 100):,} embedding calls (100 texts each) + {-(-chunks // 5000)} write(s) (5,000 vectors "
             f"each) = {bound:.2f} s at that rate ({bound_embed:.2f} s for embedding alone).", ""]
    targets: list[tuple[str, str, str, str]] = []
    off = _ingest_rows(results, "rate_limits_off")
    for mode, title in RATE_MODES:
        rows = _ingest_rows(results, mode)
        if not rows:
            continue
        # The anchors run once, without the limiter (see ingest.RATE_LIMITED): compare with that run.
        anchor_lc = (rows.get("langchain_cloudflare") or off.get("langchain_cloudflare") or {}).get("chunks_per_s")
        anchor_li = (rows.get("llamaindex_cloudflare_embed") or off.get("llamaindex_cloudflare_embed")
                     or {}).get("chunks_per_s")
        if mode == "rate_limits_on":
            lines += [f"### {title}", "",
                      "Only this project's contenders run here: the anchors send their requests one after another, "
                      "a few hundred a minute, far below the limit, so the limiter cannot change their numbers "
                      "(the ratio columns use their run without it). \"error answers\" counts 429s and any other "
                      "error statuses the emulator sent during the job (retried by the client).", ""]
        else:
            lines += [f"### {title}", ""]
        lines += [
                  "| contender | job | chunks/s | seconds | requests (ai/run + vectorize) | error answers "
                  "| peak memory MiB | client CPU s | emulator CPU s | all arrived | vs langchain-cloudflare "
                  "| vs llama-index embeddings | time / rate-limit bound |",
                  "|---|---|---:|---:|---|---|---:|---:|---:|---|---:|---:|---:|"]
        for c in I.CONTENDERS:
            r = rows.get(c.key)
            if r is None:
                continue
            if "error" in r:
                lines.append(f"| {c.label} | {c.job} | failed: {r['error'][:160]} | | | | | | | | | | |")
                continue
            req = r.get("requests", {})
            cps = r.get("chunks_per_s")
            mem = r.get("peak_delta_bytes")
            this_bound = bound if c.writes else bound_embed
            runs = r.get("runs_s") or []
            spread = f" ({min(runs):.2f}-{max(runs):.2f})" if len(runs) > 1 else ""
            lines.append(
                f"| {c.label} | {c.job} | {_fmt(cps, 0)} | {_fmt(r.get('seconds'), 2)}{spread} | "
                f"{req.get('total', 0):,} ({req.get('ai/run', 0):,} + {req.get('vectorize', 0):,}) | "
                f"{', '.join(f'{n} x {st}' for st, n in sorted(r.get('error_answers', {}).items())) or 'none'} | "
                f"{_fmt(mem / MiB if mem is not None else None, 0)} | {_fmt(r.get('client_cpu_s'), 2)} | "
                f"{_fmt(r.get('emulator_cpu_s'), 2)} | "
                f"{'yes' if r.get('complete') else 'NO (' + _fmt(r.get('arrived')) + ')'} | "
                f"{_fmt(cps / anchor_lc if cps and anchor_lc else None, 2)}x | "
                f"{_fmt(cps / anchor_li if cps and anchor_li else None, 2)}x | "
                f"{_fmt(r['seconds'] / this_bound if r.get('seconds') else None, 2)} |")
        lines.append("")
        for key in ("cf_langchain", "cf_llamaindex", "cf_llamaindex_async", "cf_llamaindex_ingest", "cf_core"):
            r = rows.get(key, {})
            if mode == "rate_limits_on" and r.get("seconds"):
                ratio = r["seconds"] / bound
                targets.append((f"ingest, rate limits on: {I.BY_KEY[key].label} time / bound",
                                f"{ratio:.2f}x ({r['seconds']:.2f} s vs {bound:.2f} s)", "<= 1.3x",
                                _verdict(ratio, 1.3, higher_is_better=False)))
        if mode == "rate_limits_off":
            for key, anchor, name in (("cf_langchain", anchor_lc, "langchain-cloudflare"),
                                      ("cf_llamaindex", anchor_li, "llama-index embeddings (embed only)"),
                                      ("cf_llamaindex_async", anchor_li, "llama-index embeddings (embed only)"),
                                      ("cf_llamaindex_ingest", anchor_li, "llama-index embeddings (embed only)"),
                                      ("cf_llamaindex_embed", anchor_li, "llama-index embeddings (embed only)")):
                cps = rows.get(key, {}).get("chunks_per_s")
                ratio = cps / anchor if cps and anchor else None
                measured = f"{_fmt(ratio, 2)}x"
                floor = rows.get("llamaindex_floor", {}).get("seconds")
                if key in ("cf_llamaindex", "cf_llamaindex_async") and floor and anchor:
                    # How far LlamaIndex's own loop alone already is from the goal.
                    measured += f"; LlamaIndex's loop alone {floor:.2f} s = {chunks / floor / anchor:.1f}x"
                targets.append((f"ingest, rate limits off: {I.BY_KEY[key].label} vs {name}",
                                measured, ">= 5x", _verdict(ratio, 5.0, higher_is_better=True)))
    return lines, targets


# -- per call / streaming -----------------------------------------------------------------------------

def _calls_section(results: dict[str, Any]) -> tuple[list[str], list[tuple[str, str, str, str]]]:
    rows = {r["library"]: r for r in results.get("calls", [])}
    if not rows:
        return [], []

    def us(key: str, op: str) -> float | None:
        r = rows.get(key, {})
        return r.get("per_call", {}).get("us", {}).get(op, {}).get("median") if "error" not in r else None

    floors = {"core": "bare_httpx", "langchain": "langchain_floor", "llamaindex": "llamaindex_floor"}
    lines = ["## 2. Per-call overhead", "",
             "In-process emulator (no socket, no added latency), microseconds per call after a warm-up: the lowest "
             "of five block medians (a burst of other work on the machine slows a block, not the number). "
             "`chat` = one invoke, `stream` = a streamed chat read to the end, `embed` = one embed_query. "
             "`x bare` divides by bare httpx making the same request; `x floor` divides by the same framework "
             "driving bare httpx (what LangChain / LlamaIndex cost by themselves). The `emulator` row is the "
             "emulator answering with no client at all. The request keys show every library sent the same body.",
             "", "| library | chat µs | stream µs | embed µs | chat x bare | stream x bare | embed x bare "
             "| chat x floor | stream x floor | embed x floor | request keys (chat / stream / embed) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    targets: list[tuple[str, str, str, str]] = []
    for lib in C.LIBRARIES:
        r = rows.get(lib.key)
        if r is None:
            continue
        if "error" in r:
            lines.append(f"| {lib.label} | failed: {r['error'][:160]} | | | | | | | | | |")
            continue
        cells = [lib.label]
        ops = ("chat", "stream", "embed")
        cells += [_fmt(us(lib.key, op), 0) for op in ops]
        for base in ("bare_httpx", floors[lib.framework]):
            for op in ops:
                mine, ref = us(lib.key, op), us(base, op)
                cells.append(_fmt(mine / ref, 2) if mine and ref and lib.key != "emulator" else "")
        bodies = r.get("per_call", {}).get("bodies", {})
        cells.append(" / ".join(bodies.get(op, "-") for op in ops) if bodies else "")
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    for key in ("cf_core", "cf_langchain", "cf_llamaindex"):
        for op in ("chat", "stream", "embed"):
            mine, bare = us(key, op), us("bare_httpx", op)
            if mine and bare:
                floor = us(floors[C.BY_KEY[key].framework], op)
                extra = f"; x its framework floor {mine / floor:.2f}" if floor and key != "cf_core" else ""
                targets.append((f"per-call {op}: {key} vs bare httpx", f"{mine / bare:.2f}x{extra}", "<= 1.3x",
                                _verdict(mine / bare, 1.3, higher_is_better=False)))
    lines += _streaming_lines(rows)
    return lines, targets


def _streaming_lines(rows: dict[str, dict[str, Any]]) -> list[str]:
    stream = {k: r.get("streaming") for k, r in rows.items() if r.get("streaming")}
    if not stream:
        return []
    bare = stream.get("bare_httpx") or {}
    lines = ["## 3. Streaming", "",
             f"Loopback server (same emulator, with its per-request latency), {D.STREAM_MAX_TOKENS}-token limit, "
             "a long answer; median over repeated streams on a kept-alive connection. Time to the first "
             "non-empty text chunk and to the end of the stream, and their excess over bare SSE reading.", "",
             "| library | first token ms | last token ms | first - bare ms | last - bare ms | text chunks |",
             "|---|---:|---:|---:|---:|---:|"]
    for lib in C.LIBRARIES:
        s = stream.get(lib.key)
        if not s:
            continue
        d_first = s["ttft_ms"] - bare["ttft_ms"] if bare else None
        d_last = s["last_ms"] - bare["last_ms"] if bare else None
        lines.append(f"| {lib.label} | {_fmt(s['ttft_ms'], 2)} | {_fmt(s['last_ms'], 2)} | "
                     f"{_fmt(d_first, 2)} | {_fmt(d_last, 2)} | {_fmt(s.get('pieces'))} |")
    return [*lines, ""]


# -- query --------------------------------------------------------------------------------------------

def _query_section(results: dict[str, Any]) -> tuple[list[str], list[tuple[str, str, str, str]]]:
    q = results.get("query")
    if not q:
        return [], []
    if "error" in q:
        return ["## 4. Query", "", f"failed: {q['error']}", ""], []
    from . import query as Q

    lines = ["## 4. Query", "",
             f"Top-{Q.TOP_K} cosine search with filter `{Q.FILTER}` (about 7% of the vectors) in the in-process "
             "emulator, median ms over distinct random queries. Floor = one numpy float32 matrix-vector product "
             "over all the vectors, one BLAS thread for everything (see query.py). Engine = the emulator's query "
             "handler without HTTP; cf_core = "
             "`client.vectorize.query` through the in-process transport. Cold = first query after the writes "
             "(builds the search snapshot and filter columns).", "",
             "| vectors | numpy floor ms | engine ms | engine / floor | cf_core ms | cf_core / floor "
             "| engine, no filter ms | cf_core, no filter ms | cold first query ms | matches brute force |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    targets = []
    for s in q["sizes"]:
        lines.append(f"| {s['vectors']:,} | {_fmt(s['floor_ms'], 2)} | {_fmt(s['engine_ms'], 2)} | "
                     f"{s['engine_ms'] / s['floor_ms']:.2f} | {_fmt(s['core_ms'], 2)} | "
                     f"{s['core_ms'] / s['floor_ms']:.2f} | {_fmt(s['engine_nofilter_ms'], 2)} | "
                     f"{_fmt(s['core_nofilter_ms'], 2)} | {_fmt(s['cold_ms'], 0)} | {'yes' if s['correct'] else 'NO'} |")
    big = max(q["sizes"], key=lambda s: s["vectors"])
    for what, key in (("engine", "engine_ms"), ("cf_core end to end", "core_ms"),
                      ("engine, no filter", "engine_nofilter_ms")):
        ratio = big[key] / big["floor_ms"]
        targets.append((f"query at {big['vectors']:,} vectors: {what} / numpy floor", f"{ratio:.2f}x", "<= 2x",
                        _verdict(ratio, 2.0, higher_is_better=False)))
    return [*lines, ""], targets


# -- plots --------------------------------------------------------------------------------------------

def _plots(results: dict[str, Any], out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    if results.get("ingest"):
        fig, ax = plt.subplots(figsize=(10, 5))
        labels = [c.label.replace("`", "") for c in I.CONTENDERS]
        width = 0.4
        for n, (mode, title) in enumerate(RATE_MODES):
            rows = _ingest_rows(results, mode)
            vals = [rows.get(c.key, {}).get("chunks_per_s") or 0 for c in I.CONTENDERS]
            ax.barh([i + n * width for i in range(len(labels))], vals, height=width, label=title)
        ax.set_yticks([i + width / 2 for i in range(len(labels))], labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("chunks per second (higher is better)")
        ax.set_title(f"Bulk ingest of {results['settings']['chunks']:,} chunks, "
                     f"{results['settings']['latency_ms']:g} ms latency per request")
        ax.legend()
        fig.tight_layout()
        fig.savefig(out / "ingest.png", dpi=110)
        plt.close(fig)
        written.append("ingest.png")
    rows = {r["library"]: r for r in results.get("calls", []) if "error" not in r}
    if rows:
        fig, axes = plt.subplots(1, 3, figsize=(14, 5), sharey=True)
        libs = [lib for lib in C.LIBRARIES if lib.key in rows]
        for ax, op in zip(axes, ("chat", "stream", "embed"), strict=True):
            vals = [rows[lib.key]["per_call"]["us"].get(op, {}).get("median", 0) for lib in libs]
            ax.barh(range(len(libs)), vals)
            ax.set_title(f"{op} (µs per call, lower is better)")
        axes[0].set_yticks(range(len(libs)), [lib.label[:48] for lib in libs], fontsize=8)
        axes[0].invert_yaxis()
        fig.suptitle("Per-call time against the in-process emulator")
        fig.tight_layout()
        fig.savefig(out / "overhead.png", dpi=110)
        plt.close(fig)
        written.append("overhead.png")
        stream: list[tuple[C.Library, dict[str, Any]]] = [
            (lib, rows[lib.key]["streaming"]) for lib in libs if rows[lib.key].get("streaming")]
        if stream:
            fig, ax = plt.subplots(figsize=(10, 4))
            ys = range(len(stream))
            ax.barh(ys, [s["last_ms"] for _, s in stream], label="last token", color="#9ecae1")
            ax.barh(ys, [s["ttft_ms"] for _, s in stream], label="first token", color="#3182bd")
            ax.set_yticks(list(ys), [lib.label[:48] for lib, _ in stream], fontsize=8)
            ax.invert_yaxis()
            ax.set_xlabel("ms (lower is better)")
            ax.set_title("Streaming over loopback")
            ax.legend()
            fig.tight_layout()
            fig.savefig(out / "streaming.png", dpi=110)
            plt.close(fig)
            written.append("streaming.png")
    q = results.get("query")
    if q and "sizes" in q:
        fig, ax = plt.subplots(figsize=(8, 4))
        kinds = (("floor_ms", "numpy floor"), ("engine_ms", "engine (filtered)"), ("core_ms", "cf_core (filtered)"),
                 ("engine_nofilter_ms", "engine (no filter)"))
        width = 0.2
        for n, (key, label) in enumerate(kinds):
            ax.bar([i + n * width for i in range(len(q["sizes"]))], [s[key] for s in q["sizes"]], width=width,
                   label=label)
        ax.set_xticks([i + 1.5 * width for i in range(len(q["sizes"]))], [f"{s['vectors']:,}" for s in q["sizes"]])
        ax.set_ylabel("ms per query (lower is better)")
        ax.set_title("Emulator query vs the numpy floor")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out / "query.png", dpi=110)
        plt.close(fig)
        written.append("query.png")
    return written


NOTES = [
    "## How the contenders were set up", "",
    "- Everyone talks to the same emulator process over 127.0.0.1 (uvicorn), each contender in its own "
    "subprocess, its own account and index. Import time and input generation are outside the clock (the "
    "chunks, and the LangChain `Document`s or LlamaIndex `TextNode`s a user of that framework already holds, "
    "built the same way for every contender of that framework); client and store construction are inside it.",
    "- langchain-cloudflare 0.4: `CloudflareWorkersAIEmbeddings(api_base_url=...)` and "
    "`CloudflareVectorize(base_url=...)`, as documented. Its embeddings are given `batch_size=100` (default "
    "50) to favour it. `add_texts` refuses more than 5,000 texts per call, so the harness calls "
    "`add_documents` four times. It does not wait for Vectorize to apply the writes (`wait=False` by "
    "default), while cf_langchain and cf_llamaindex wait until the vectors are queryable: that favours it too. "
    "Its embeddings use `requests` and its chat an `httpx.Client`; for the per-call numbers the harness "
    "routes `requests` to the in-process emulator with a transport adapter and passes its chat model an "
    "`httpx.Client` on the in-process transport (its `client` field).",
    "- llama-index-embeddings-cloudflare-workersai 0.6: only embeds (Cloudflare publishes no LlamaIndex "
    "Vectorize store), so its rows embed the chunks and nothing is written; they are compared with both "
    "cf_llamaindex's full ingest (embed + write, a harder job) and its embedding alone. Its URL is the "
    "module constant `API_URL_TEMPLATE`, patched to the emulator; `embed_batch_size=100` (default 10).",
    "- cf_llamaindex runs under `VectorStoreIndex(nodes, storage_context=..., embed_model=...)`, "
    "LlamaIndex's own loop: it embeds `insert_batch_size` (2,048) nodes at a time in calls of "
    "`embed_batch_size` texts, then adds them to the store. Each add returns once its write is queryable (the "
    "store's contract), so batches do not overlap: that loop, not the client, sets the pace. The LlamaIndex "
    "floor row runs the same loop over a mock embedding and a store that keeps nothing: what LlamaIndex costs "
    "by itself. `ingest_nodes` is the store's bulk path (the core's pipeline: embedding overlapped with writes).",
    "- Rate limits: the emulator enforces the catalog's per-model requests per minute over a sliding 60-second "
    "window. The bound is the issue's: the fewest requests (embedding calls of 100 texts + writes of 5,000 "
    "vectors) at the allowed rate. A job of a few hundred requests fits in one window, so the limiter never "
    "has to refuse anything; a ratio below 1 means the job finished sooner than the steady-state rate allows.",
    "- Client CPU is the contender process's CPU time during the job; emulator CPU is the CPU time of the "
    "emulator's handler threads while answering it (JSON, stand-in models, Vectorize writes).",
    "",
]


def write_report(results: dict[str, Any], out: Path) -> str:
    s = results["settings"]
    sections, targets = [], []
    for build in (_ingest_section, _calls_section, _query_section):
        lines, found = build(results)
        sections += lines
        targets += found
    plots = _plots(results, out)
    head = ["# Benchmark results", "",
            f"One run of `python -m benchmarks{' --quick' if s['quick'] else ''}` on "
            f"{time.strftime('%Y-%m-%d %H:%M', time.localtime())}: {os.cpu_count()} cores, Python "
            f"{platform.python_version()}, {platform.system()} {platform.machine()}; "
            f"{'contenders in this process (memory not meaningful)' if s['in_process'] else 'each contender in its own subprocess'}; "
            f"wall time {s.get('wall_s', 0):.0f} s; 1-minute load average {s.get('load_start', 0):.1f} at the "
            f"start and {s.get('load_end', 0):.1f} at the end (anything above 0 is other work sharing the cores).",
            "", f"Versions: {_versions()}.", ""]
    if s["quick"]:
        head += ["**Quick run: tiny sizes that only check the harness; the numbers mean nothing.**", ""]
    head += ["## Targets", "", "| target | measured | goal | status |", "|---|---|---|---|"]
    head += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in targets] + [""]
    tail = NOTES + ["## Plots", ""] + [f"![{p}]({p})" for p in plots] + [""]
    text = "\n".join(head + sections + tail)
    (out / "results.md").write_text(text)
    return text
