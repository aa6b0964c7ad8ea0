-- chat.lua - wrk script: POST a realistic OpenAI chat completion request.
--
--   wrk -t1 -c64 -d5s -s bench/chat.lua http://127.0.0.1:PORT/v1/chat/completions
--   wrk ... -s bench/chat.lua URL -- big         # ~100 KB body (a long document in the user message)
--   wrk ... -s bench/chat.lua URL -- kb=500      # ~500 KB body
--   wrk ... -s bench/chat.lua URL -- stream      # "stream": true (SSE responses)
--   wrk ... -s bench/chat.lua URL -- model=foo   # model name (default bench-model)
-- The same options can come from the environment: CHAT_BODY_KB, CHAT_STREAM=1, CHAT_MODEL.
--
-- The request is built once per thread in init() and sent unchanged (no per-request Lua, so
-- wrk stays cheap).  done() prints one parseable line:
--   BENCH_RESULT requests=.. duration_us=.. rps=.. p50_us=.. p90_us=.. p99_us=.. max_us=..
--                err_connect=.. err_read=.. err_write=.. err_status=.. err_timeout=.. bytes=..
-- err_status counts non-2xx/3xx responses.

local function json_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    if c == '"' then return '\\"' elseif c == "\\" then return "\\\\"
    elseif c == "\n" then return "\\n" else return string.format("\\u%04x", c:byte()) end
  end) .. '"'
end

local system_prompt = "You are a precise assistant for a site reliability engineering team. " ..
  "Answer in short paragraphs, cite the relevant section numbers, and say so when the provided " ..
  "material does not contain the answer."

local question = "Summarize the incident report below in five sentences and list the follow-up " ..
  "actions with their owners."

local paragraphs = {
  "At 14:12 UTC the checkout service began returning HTTP 502 errors to roughly 3% of requests. " ..
  "The on-call engineer was paged at 14:15 by the error-rate alert on the payments dashboard.",
  "Investigation showed that a configuration change deployed at 14:10 had reduced the maximum " ..
  "number of upstream connections per gateway instance from 256 to 16, causing requests to queue " ..
  "behind a small pool while the payment provider's latency was slightly elevated.",
  "Queued requests exceeded the 2 second client timeout, clients retried, and the retry traffic " ..
  "amplified the queueing. Error rates peaked at 7.4% at 14:31 UTC across all three regions.",
  "The change was rolled back at 14:52 UTC. Error rates returned to baseline by 14:57 UTC and " ..
  "no data was lost; 1,832 orders failed and customers were asked to retry by email.",
  "Contributing factors: the configuration linter did not flag the pool size, the canary stage " ..
  "only covered one region with low traffic, and the saturation metric for the connection pool " ..
  "was collected but not alerted on.",
}

local function build_document(target_bytes)
  local parts, size, section = {}, 0, 1
  while size < target_bytes do
    for i, p in ipairs(paragraphs) do
      local s = string.format("Section %d.%d. %s\n\n", section, i, p)
      parts[#parts + 1] = s
      size = size + #s
      if size >= target_bytes then break end
    end
    section = section + 1
  end
  return table.concat(parts)
end

local function build_body(kb, stream, model)
  local user = question
  if kb > 0 then
    user = question .. "\n\n" .. build_document(kb * 1024)
  end
  return '{"model":' .. json_string(model) .. ',"messages":[' ..
    '{"role":"system","content":' .. json_string(system_prompt) .. '},' ..
    '{"role":"user","content":' .. json_string(user) .. '}],' ..
    '"temperature":0.2,"top_p":1,"max_tokens":512,"user":"bench-user-42"' ..
    (stream and ',"stream":true' or '') .. '}'
end

function init(args)
  local kb = tonumber(os.getenv("CHAT_BODY_KB") or "0") or 0
  local stream = os.getenv("CHAT_STREAM") == "1"
  local model = os.getenv("CHAT_MODEL") or "bench-model"
  for _, a in ipairs(args) do
    if a == "big" then kb = 100
    elseif a == "stream" then stream = true
    elseif a:match("^kb=") then kb = tonumber(a:sub(4))
    elseif a:match("^model=") then model = a:sub(7)
    else error("chat.lua: unknown argument " .. a) end
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Accept"] = "application/json"
  wrk.headers["Authorization"] = "Bearer sk-bench-0000000000000000"
  wrk.headers["User-Agent"] = "OpenAI/Python 1.51.0"
  wrk.body = build_body(kb, stream, model)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH_RESULT requests=%d duration_us=%d rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
    "err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d bytes=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout, summary.bytes))
end
