#!/usr/bin/env python3
"""The outside check of resumed answers (docs/performance.md, "Resumed answers under random kills").

Two llama-servers behind the published gateway; each of NUM_STREAMS streams (temperature 0, a seed, a prompt of its
own) is first answered uninterrupted, then asked again while the replica serving it is killed by its process id at a
random moment, and started again on its port. Each cut answer is compared with the uninterrupted one: whole and equal,
cut but reported as complete (must never happen), ended with an error event, or whole but different (where it first
differs is printed). Usage: scripts/resume-check.sh (which publishes the gateway and runs this).
"""
import json, os, random, re, signal, subprocess, sys, time, urllib.request

root, gateway_dir, model = sys.argv[1], sys.argv[2], sys.argv[3]
streams = int(os.environ.get("NUM_STREAMS", "60"))
max_tokens = int(os.environ.get("OUTPUT_TOKENS", "1000"))
seed = int(os.environ.get("SEED", "1"))
rng = random.Random(seed)
ports = [18201, 18202]
gateway_port = 18200
procs = {}


def start_llama(i):
    args = [f"{root}/scripts/llama-tool.sh", "llama-server", "--model", model, "--host", "127.0.0.1", "--port", str(ports[i]),
            "--parallel", "2", "--threads", "1", "--ctx-size", "8192", "--no-jinja", "--no-ui"]
    procs[i] = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def wait_ok(url, seconds=60):
    end = time.time() + seconds
    while time.time() < end:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except Exception:
            pass
        time.sleep(0.1)
    raise SystemExit(f"resume-check: error: {url} did not answer in {seconds} s")


def processing(i):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{ports[i]}/slots", timeout=2) as r:
            return any(s.get("is_processing") for s in json.load(r))
    except Exception:
        return False


def stream(prompt, on_first=None):
    body = {"model": "tiny", "messages": [{"role": "user", "content": prompt}], "max_tokens": max_tokens, "temperature": 0,
            "seed": 7, "stream": True, "stream_options": {"include_usage": True}}
    req = urllib.request.Request(f"http://127.0.0.1:{gateway_port}/v1/chat/completions", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    text, finish, usage, error, done, first = [], None, None, None, False, True
    gap, last = 0.0, None
    with urllib.request.urlopen(req, timeout=120) as r:
        request_id = r.headers.get("x-request-id")
        for line in r:
            line = line.decode().strip()
            if not line.startswith("data: "):
                continue
            data = line[6:]
            if data == "[DONE]":
                done = True
                continue
            event = json.loads(data)
            if "error" in event:
                error = event["error"].get("code")
                continue
            if event.get("usage"):
                usage = event["usage"]
            for choice in event.get("choices", []):
                if choice["delta"].get("content"):
                    text.append(choice["delta"]["content"])
                    now = time.monotonic()
                    gap = max(gap, now - last) if last else gap
                    last = now
                    if first and on_first:
                        first = False
                        on_first()
                finish = choice.get("finish_reason") or finish
    stream.gap = gap
    return "".join(text), finish, usage, error, done, text, request_id


def read_back_alike(request_id, ref_usage):
    """Whether the text sent before the cut, read back as the continuation's prompt, came to as many tokens as were
    generated for it: the gateway logs the tokens sent at the cut, and the continuation's prompt (resume_tokens_in) is
    the client's prompt plus that text. A different count means the continuation was given other tokens."""
    log = os.path.join(gateway_dir, "gateway.log")
    for _ in range(50):
        with open(log) as f:
            lines = f.read()
        cut = re.search(rf"Answer {re.escape(request_id)} was cut by backend \S+ \(\w+\) after (\d+) tokens", lines)
        sent = re.search(rf"{re.escape(request_id)} .*resume_tokens_in=(\d+)", lines)
        if cut and sent:
            return int(sent.group(1)) - ref_usage["prompt_tokens"] == int(cut.group(1))
        time.sleep(0.1)
    return None


def killer(delay):
    def run():
        time.sleep(delay)
        for i in (0, 1):
            if processing(i):
                os.killpg(procs[i].pid, signal.SIGKILL)
                procs[i].wait()
                killed.append(i)
                return
    return run


def main():
    global killed
    for i in (0, 1):
        start_llama(i)
    for i in (0, 1):
        wait_ok(f"http://127.0.0.1:{ports[i]}/health")
    env = dict(os.environ, ASPNETCORE_URLS=f"http://127.0.0.1:{gateway_port}", Backend__Model="tiny",
               Backend__Backends__0__Name="llm-1", Backend__Backends__0__Endpoint=f"http://127.0.0.1:{ports[0]}",
               Backend__Backends__1__Name="llm-2", Backend__Backends__1__Endpoint=f"http://127.0.0.1:{ports[1]}")
    log = open(os.path.join(gateway_dir, "gateway.log"), "w")
    gw = subprocess.Popen(["dotnet", "LlmApp.Gateway.dll"], cwd=gateway_dir, env=env, stdout=log, stderr=subprocess.STDOUT)
    import threading
    counts = {"whole and equal": 0, "whole, different": 0, "error event": 0, "cut but reported complete": 0, "ended before the kill": 0}
    input_exact = 0
    resumed = 0
    alike = {"whole and equal": [0, 0], "whole, different": [0, 0]}
    gaps = []
    try:
        wait_ok(f"http://127.0.0.1:{gateway_port}/readyz")
        for n in range(streams):
            prompt = f"Go on {n}"
            ref_text, ref_finish, ref_usage, ref_error, _, _, _ = stream(prompt)
            assert ref_error is None and ref_finish, f"the uninterrupted answer {n} failed: {ref_error}"
            killed = []
            delay = rng.uniform(0, 0.6)

            def on_first():
                nonlocal_thread[0] = threading.Thread(target=killer(delay))
                nonlocal_thread[0].start()
            nonlocal_thread = [None]
            text, finish, usage, error, done, _, request_id = stream(prompt, on_first)
            if nonlocal_thread[0]:
                nonlocal_thread[0].join()
            if not killed:
                outcome = "ended before the kill"
            elif error:
                # An error event is honest; a finish reason beside it would have claimed the answer whole.
                outcome = "cut but reported complete" if finish is not None else "error event"
            elif finish and done and text == ref_text:
                outcome = "whole and equal"
                resumed += 1
                alike[outcome][0 if read_back_alike(request_id, ref_usage) else 1] += 1
                input_exact += usage["prompt_tokens"] == ref_usage["prompt_tokens"] and usage["completion_tokens"] == ref_usage["completion_tokens"]
            elif finish and done:
                at = next((k for k in range(min(len(text), len(ref_text))) if text[k] != ref_text[k]), min(len(text), len(ref_text)))
                outcome = "whole, different"
                resumed += 1
                alike[outcome][0 if read_back_alike(request_id, ref_usage) else 1] += 1
                print(f"  stream {n}: differs at character {at} of {len(ref_text)}: {ref_text[max(0, at - 20):at + 20]!r} / {text[max(0, at - 20):at + 20]!r}")
            else:
                outcome = "cut but reported complete"
            counts[outcome] += 1
            if outcome.startswith("whole"):
                gaps.append(stream.gap * 1000)
            print(f"stream {n}: kill after {delay * 1000:.0f} ms: {outcome}", flush=True)
            for i in killed:
                start_llama(i)
                wait_ok(f"http://127.0.0.1:{ports[i]}/health")
                # The gateway takes it back at its next good probe (every second).
                time.sleep(1.5)
    finally:
        gw.send_signal(signal.SIGTERM)
        gw.wait()
        for p in procs.values():
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    cut = streams - counts["ended before the kill"]
    print(f"\n{streams} streams, {cut} cut by a kill mid-answer:")
    for k, v in counts.items():
        print(f"  {k}: {v}")
    print(f"  resumed (whole): {resumed} of {cut}; usage equal to the uninterrupted run's: {input_exact} of {counts['whole and equal']}")
    with open(os.path.join(gateway_dir, "gateway.log")) as f:
        lines = [l for l in f if " status=" in l]
    for k, (same, other) in alike.items():
        print(f"  {k}: the text sent read back as as many tokens as were generated in {same}, as a different number in {other}")
    if gaps:
        gaps.sort()
        print(f"  longest pause between two pieces of text in a resumed stream (the cut): p50 {gaps[len(gaps) // 2]:.0f} ms, max {gaps[-1]:.0f} ms")
    print(f"  gateway log lines with resumed=1: {sum(' resumed=1 ' in l for l in lines)}, resumed=2: {sum(' resumed=2 ' in l for l in lines)}")
    return 1 if counts["cut but reported complete"] else 0


if __name__ == "__main__":
    sys.exit(main())
