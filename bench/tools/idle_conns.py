import asyncio, resource, sys, os, time
N = int(sys.argv[1]); port = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_NOFILE, (N + 1000, N + 1000))
async def main():
    conns = []
    for i in range(N):
        try:
            r, w = await asyncio.open_connection('127.0.0.1', port)
            conns.append(w)
        except Exception as e:
            print("failed at", i, e); break
    print("open", len(conns), flush=True)
    await asyncio.sleep(3)
    print("holding", flush=True)
    await asyncio.sleep(4)
    for w in conns: w.close()
asyncio.run(main())
