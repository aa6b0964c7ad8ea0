# idle_conns.py N PORT [--request]: opens N keep-alive connections to 127.0.0.1:PORT and holds
# them idle for ~7 s (measure the server's RSS meanwhile). With --request each connection first
# sends one small chat completion and reads the answer, so the server holds connections that
# have served a request (buffers grown), as keep-alive clients leave them.
import asyncio, resource, sys
N = int(sys.argv[1]); port = int(sys.argv[2]); with_request = "--request" in sys.argv
resource.setrlimit(resource.RLIMIT_NOFILE, (N + 1000, N + 1000))
BODY = b'{"model":"bench-model","messages":[{"role":"user","content":"Say hello in five words."}]}'
REQ = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
       b"Content-Length: " + str(len(BODY)).encode() + b"\r\n\r\n" + BODY)
async def one(sem):
    async with sem:
        r, w = await asyncio.open_connection('127.0.0.1', port)
        if with_request:
            w.write(REQ)
            head = await r.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await r.readexactly(length)
        return w
async def main():
    sem = asyncio.Semaphore(500)
    conns = await asyncio.gather(*(one(sem) for _ in range(N)), return_exceptions=True)
    ok = [c for c in conns if not isinstance(c, Exception)]
    print("open", len(ok), "failed", len(conns) - len(ok), flush=True)
    await asyncio.sleep(3)
    print("holding", flush=True)
    await asyncio.sleep(4)
    for w in ok: w.close()
asyncio.run(main())
