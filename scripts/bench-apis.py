#!/usr/bin/env python3
"""The gateway's CPU per streamed token on each of its three chat APIs (docs/performance.md, "The three APIs' streams").

Streams the same requests through /v1/chat/completions, /v1/responses and /v1/messages of one published gateway, in
interleaved rounds, CONCURRENCY at a time, and reads the gateway process's CPU time from /proc before and after each
batch: CPU µs a token = (utime + stime) / output tokens. Usage: scripts/bench-apis.sh (which starts what it needs).
"""
import http.client, json, os, statistics, sys, threading, time

port, pid = int(sys.argv[1]), int(sys.argv[2])
streams = int(os.environ.get("NUM_PROMPTS", "40"))
concurrency = int(os.environ.get("CONCURRENCY", "4"))
tokens = int(os.environ.get("OUTPUT_TOKENS", "256"))
rounds = int(os.environ.get("ROUNDS", "3"))
tick = os.sysconf("SC_CLK_TCK")


def body(api, n):
    prompt = f"Go on {n}"
    if api == "chat":
        return "/v1/chat/completions", {"model": "bench", "messages": [{"role": "user", "content": prompt}], "max_tokens": tokens, "stream": True,
                                         "stream_options": {"include_usage": True}}
    if api == "responses":
        return "/v1/responses", {"model": "bench", "input": prompt, "max_output_tokens": tokens, "stream": True}
    return "/v1/messages", {"model": "bench", "messages": [{"role": "user", "content": prompt}], "max_tokens": tokens, "stream": True}


def stream(api, n, counted):
    path, payload = body(api, n)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    connection.request("POST", path, json.dumps(payload), {"Content-Type": "application/json"})
    response = connection.getresponse()
    output = 0
    for line in response:
        if not line.startswith(b"data: ") or line.startswith(b"data: [DONE]"):
            continue
        event = json.loads(line[6:])
        usage = event.get("usage") or (event.get("response") or {}).get("usage")
        if usage:
            output = usage.get("completion_tokens") or usage.get("output_tokens") or output
    connection.close()
    counted.append(output)


def cpu():
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / tick


def batch(api):
    counted, queue = [], list(range(streams))
    lock = threading.Lock()

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                n = queue.pop()
            stream(api, n, counted)

    before = cpu()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return (cpu() - before) * 1e6 / max(1, sum(counted)), sum(counted)


results = {api: [] for api in ("chat", "responses", "messages")}
for api in results:
    batch(api)  # warm-up: the JIT's first streams of each
for r in range(rounds):
    for api in results:
        results[api].append(batch(api))
        print(f"round {r + 1} {api}: {results[api][-1][0]:.1f} µs a token over {results[api][-1][1]} tokens", flush=True)

print(f"\n| API | CPU a streamed token (median of {rounds}) | rounds |\n| --- | ---: | --- |")
for api, runs in results.items():
    print(f"| {api} | {statistics.median(r[0] for r in runs):.1f} µs | {', '.join(f'{r[0]:.1f}' for r in runs)} |")
