# concurrent_streams.py N PORT [MODEL]: starts N streaming chat completions ("stream": true,
# model MODEL, default demo-small) to 127.0.0.1:PORT at once, each on its own connection
# (Connection: close), and reads every one to the end. A stream counts as OK if it answered
# 200 and ended with "data: [DONE]" within 60 s. Prints "ok OK failed FAILED in WALLs"
# (bench/run.sh parses this line); exit status 1 if any failed. With a mock upstream that takes
# ~2 s per stream (--chunks 20 --chunk-delay-us 100000), a wall time near 2 s means the N
# streams really were in flight together.
import asyncio, json, resource, sys, time
N = int(sys.argv[1]); port = int(sys.argv[2])
model = sys.argv[3] if len(sys.argv) > 3 else "demo-small"
# raise the soft descriptor limit as far as needed (the hard limit stays as it is)
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
want = N + 1000 if hard == resource.RLIM_INFINITY else min(N + 1000, hard)
if want > soft:
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
body = json.dumps({"model": model, "stream": True,
                   "messages": [{"role": "user", "content": "hi"}]}, separators=(",", ":")).encode()
req = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
       b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
first_error = []
async def one():
    try:
        r, w = await asyncio.open_connection('127.0.0.1', port)
        w.write(req); await w.drain()
        data = await asyncio.wait_for(r.read(), 60)
        w.close()
        ok = data.startswith(b"HTTP/1.1 200") and b"data: [DONE]" in data
        if not ok and not first_error:
            first_error.append(data[:200])
        return ok
    except Exception as e:
        if not first_error:
            first_error.append(repr(e))
        return False
async def main():
    t = time.time()
    res = await asyncio.gather(*[one() for _ in range(N)])
    print("ok", sum(res), "failed", N - sum(res), "in %.1fs" % (time.time() - t), flush=True)
    if first_error:
        print("first failure:", first_error[0], file=sys.stderr)
    return 0 if all(res) else 1
sys.exit(asyncio.run(main()))
