import asyncio, resource, sys, time
N = int(sys.argv[1]); port = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_NOFILE, (N + 1000, N + 1000))
body = b'{"model":"demo-small","stream":true,"messages":[{"role":"user","content":"hi"}]}'
req = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
       b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
async def one():
    try:
        r, w = await asyncio.open_connection('127.0.0.1', port)
        w.write(req); await w.drain()
        data = await asyncio.wait_for(r.read(), 60)
        w.close()
        return data.startswith(b"HTTP/1.1 200") and b"data: [DONE]" in data
    except Exception as e:
        return False
async def main():
    t = time.time()
    res = await asyncio.gather(*[one() for _ in range(N)])
    print("ok", sum(res), "failed", N - sum(res), "in %.1fs" % (time.time() - t))
asyncio.run(main())
