#!/usr/bin/env python3
# A quick measure of what streaming costs, until LlmApp.Bench exists: streams N chat completions of MAX_TOKENS tokens
# at concurrency C to HOST:PORT (the gateway or llama-server itself), after a warm-up of 2*C, and prints output tok/s,
# time-to-first-token p50 and, for each PID, its CPU time per streamed token from /proc/PID/stat.
#   python3 scripts/stream-cpu.py HOST PORT PID[,PID...] N C MAX_TOKENS
# e.g. python3 scripts/stream-cpu.py 127.0.0.1 8000 "$(pgrep -f LlmApp.Gateway.dll),$(pgrep -f llama-server)" 100 2 256
import http.client, json, sys, threading, time, os
host, port, pids, n, conc, maxtok = sys.argv[1], int(sys.argv[2]), [int(p) for p in sys.argv[3].split(',')], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
tick = os.sysconf('SC_CLK_TCK')
def cpu(pid):
    f = open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()
    return (int(f[11]) + int(f[12])) / tick
model = os.environ.get("LLMAPP_MODEL", "tiny")
body = json.dumps({"model": model, "messages": [{"role": "user", "content": "Go on"}], "max_tokens": maxtok, "temperature": 0, "stream": True})
tokens = 0; ttfts = []; lock = threading.Lock()
def worker(count):
    global tokens
    for _ in range(count):
        c = http.client.HTTPConnection(host, port)
        t0 = time.perf_counter(); first = None; k = 0
        c.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
        r = c.getresponse()
        while True:
            line = r.readline()
            if not line: break
            if line.startswith(b'data: ') and b'"content":"' in line:
                k += 1
                if first is None: first = time.perf_counter() - t0
        c.close()
        with lock:
            tokens += k; ttfts.append(first or 0)
def run(total):
    ts = [threading.Thread(target=worker, args=(total // conc,)) for _ in range(conc)]
    [t.start() for t in ts]; [t.join() for t in ts]
run(conc * 2)  # warm-up
tokens = 0; ttfts = []
c0 = [cpu(p) for p in pids]; w0 = time.perf_counter()
run(n)
w = time.perf_counter() - w0; c1 = [cpu(p) for p in pids]
ttfts.sort()
print(f"tokens={tokens} wall={w:.2f}s tok/s={tokens/w:.0f} ttft_p50={ttfts[len(ttfts)//2]*1000:.1f}ms ttft_max={ttfts[-1]*1000:.1f}ms " + " ".join(f"pid{p}_cpu_per_token_us={(b-a)/tokens*1e6:.0f}" for p, a, b in zip(pids, c0, c1)))
