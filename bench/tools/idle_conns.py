# idle_conns.py N PORT [--request] [--settle S] [--hold S] [--timeout S]: opens N keep-alive
# connections to 127.0.0.1:PORT and holds them idle (measure the server's RSS meanwhile). With
# --request each connection first sends one small chat completion and reads the answer, so the
# server holds connections that have served a request (buffers grown), as keep-alive clients
# leave them.
#
# Prints "open OK failed FAILED" once every attempt has finished (a connection that could not
# be opened, or whose request got no complete answer within --timeout seconds, default 30,
# counts as failed), then, --settle seconds later (default 3), "holding": all the connections
# that opened are now idle; sample the server's RSS then (bench/run.sh waits for this line).
# They are kept open --hold more seconds (default 4), then closed. Exit status 1 if any failed.
import argparse, asyncio, resource, sys

ap = argparse.ArgumentParser()
ap.add_argument("n", type=int)
ap.add_argument("port", type=int)
ap.add_argument("--request", action="store_true")
ap.add_argument("--settle", type=float, default=3.0)
ap.add_argument("--hold", type=float, default=4.0)
ap.add_argument("--timeout", type=float, default=30.0)
args = ap.parse_args()
N, port, with_request = args.n, args.port, args.request

# raise the soft descriptor limit as far as needed (the hard limit stays as it is)
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
want = N + 1000 if hard == resource.RLIM_INFINITY else min(N + 1000, hard)
if want > soft:
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))

BODY = b'{"model":"bench-model","messages":[{"role":"user","content":"Say hello in five words."}]}'
REQ = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
       b"Content-Length: " + str(len(BODY)).encode() + b"\r\n\r\n" + BODY)

async def open_one():
    r, w = await asyncio.open_connection('127.0.0.1', port)
    if with_request:
        w.write(REQ)
        head = await r.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            w.close()
            raise RuntimeError("answer: " + head.split(b"\r\n", 1)[0].decode(errors="replace"))
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        await r.readexactly(length)
    return w

async def one(sem):
    async with sem:
        return await asyncio.wait_for(open_one(), args.timeout)

async def main():
    sem = asyncio.Semaphore(500)
    conns = await asyncio.gather(*(one(sem) for _ in range(N)), return_exceptions=True)
    ok = [c for c in conns if not isinstance(c, BaseException)]
    errs = [c for c in conns if isinstance(c, BaseException)]
    print("open", len(ok), "failed", len(errs), flush=True)
    if errs:
        print("first error:", repr(errs[0]), file=sys.stderr, flush=True)
    await asyncio.sleep(args.settle)
    print("holding", flush=True)
    await asyncio.sleep(args.hold)
    for w in ok:
        w.close()
    return 1 if errs else 0

sys.exit(asyncio.run(main()))
