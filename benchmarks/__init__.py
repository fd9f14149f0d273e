"""Side-by-side benchmarks of cf_core / cf_langchain / cf_llamaindex against the published Cloudflare
integrations (langchain-cloudflare, llama-index-embeddings-cloudflare-workersai), all against the
same local emulator.

Run ``python -m benchmarks`` (``make bench``); results go to ``benchmarks/results/``. Nothing here
is a test: ``tests/benchmarks/test_bench_smoke.py`` only runs a tiny pass to keep the harness working.
"""
