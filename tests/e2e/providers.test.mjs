// End-to-end tests of Baton's provider translation with the two official npm clients, `openai`
// (POST /v1/chat/completions) and `@anthropic-ai/sdk` (POST /v1/messages), each against an
// OpenAI-format and an Anthropic-format upstream: four combinations.
//
// This file starts everything it needs itself (tests/e2e/run.sh only has to export BATON_BIN):
//   - two fake upstreams, in-process with node:http on ephemeral ports:
//       * an OpenAI chat-completions server (JSON, and SSE chat.completion.chunk with tool_calls
//         deltas, a usage chunk when stream_options.include_usage, `data: [DONE]`);
//       * an Anthropic Messages server (JSON message with text / tool_use blocks, and SSE
//         message_start … content_block_* (text_delta, input_json_delta) … message_stop);
//     Both decide what to answer from the request: "please fail" in the last user message → 429
//     in the format's error shape; a tool result in the history → a text that quotes it; tools
//     and no tool result yet → a get_weather tool call; otherwise a greeting that echoes the user
//     text. They record every request so the tests can check what Baton sent upstream.
//   - a gateway ($BATON_BIN, default build/asan/baton) with a config in a temp dir:
//       gpt-fake    -> provider oa (kind openai)    -> the OpenAI fake
//       claude-fake -> provider an (kind anthropic) -> the Anthropic fake
//     Both providers have resilience.max_retries: 0, and the SDKs maxRetries: 0, so a 429 is one
//     upstream request. The gateway is stopped with SIGTERM in `after` and must exit 0 (ASan/UBSan
//     reports make the exit status non-zero).
//
// Every test marks its user text with a unique tag and finds its upstream requests by that tag.
// Only node:test and node:assert; no other test framework.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BATON_BIN = path.resolve(process.env.BATON_BIN ?? path.join(HERE, '../../build/asan/baton'));
const TIMEOUT = { timeout: 20_000 };
const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 35_000;  // SIGTERM drain (server.timeouts.drain defaults to 30 s) + slack

const UPSTREAM_KEY = 'sk-e2e-upstream-key-4242';  // the providers' key (env E2E_KEY)
const CLIENT_KEY = 'sk-client-key-not-for-upstreams';

// ---- what the fakes answer ------------------------------------------------------------------

const WEATHER_TOOL = {
  name: 'get_weather',
  description: 'Current weather for a city',
  schema: {
    type: 'object',
    properties: {
      city: { type: 'string', description: 'City name' },
      unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
    },
    required: ['city'],
  },
};
const TOOL_ARGS = { city: 'Paris', unit: 'celsius' };
const TOOL_RESULT = 'Sunny, 21 degrees';
const ANSWER_PREFIX = 'The tool said: ';
const SYSTEM_PROMPT = 'Be brief.';

const OA_CALL_ID = 'call_fake_weather_1';
const AN_TOOL_ID = 'toolu_fake_weather_1';
const AN_LEAD_IN = 'Let me check the weather.';  // Claude-style text before its tool_use block
const OA_429 = 'Rate limit reached for gpt-4o-mini (fake) on requests per min';
const AN_429 = 'Number of requests has exceeded your per-minute rate limit (fake)';

// Upstream usage: different numbers per fake so that a test sees which one answered.
const OA_USAGE = { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 };
const AN_USAGE = { input_tokens: 13, output_tokens: 5 };

// The two upstreams as seen from the tests.
const UPSTREAMS = {
  'gpt-fake': {
    model: 'gpt-fake', format: 'openai', upstreamModel: 'gpt-4o-mini',
    greeting: 'Hello from the OpenAI fake.', toolId: OA_CALL_ID, leadIn: null,
    usage: { input: OA_USAGE.prompt_tokens, output: OA_USAGE.completion_tokens },
    rateLimitMessage: OA_429,
  },
  'claude-fake': {
    model: 'claude-fake', format: 'anthropic', upstreamModel: 'claude-sonnet-4-5',
    greeting: 'Hello from the Anthropic fake.', toolId: AN_TOOL_ID, leadIn: AN_LEAD_IN,
    usage: { input: AN_USAGE.input_tokens, output: AN_USAGE.output_tokens },
    rateLimitMessage: AN_429,
  },
};
const greetingFor = (up, userText) => `${up.greeting} You said: ${userText}`;

// Text of an OpenAI content (string | parts) or an Anthropic content (string | blocks).
function textOf(content) {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.filter((p) => p?.type === 'text').map((p) => p.text).join('');
}

function decide(view) {
  if (view.lastUserText.includes('please fail')) return { kind: 'fail' };
  if (view.toolResult !== undefined) return { kind: 'text', text: ANSWER_PREFIX + view.toolResult };
  if (view.toolNames.length > 0) return { kind: 'tool', name: view.toolNames[0], args: TOOL_ARGS };
  return { kind: 'greet', userText: view.lastUserText };
}

// Splits a string into `n` roughly equal non-empty pieces (SSE fragments).
function pieces(s, n = 3) {
  const size = Math.max(1, Math.ceil(s.length / n));
  const out = [];
  for (let i = 0; i < s.length; i += size) out.push(s.slice(i, i + size));
  return out;
}

// ---- fake upstream plumbing -----------------------------------------------------------------

function readBody(req) {
  return new Promise((resolve, reject) => {
    const parts = [];
    req.on('data', (c) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

// Starts a node:http server on 127.0.0.1:0; `handle(rec, res)` answers a recorded request.
async function startFake(name, handle) {
  const requests = [];
  const server = http.createServer(async (req, res) => {
    const raw = await readBody(req);
    let body;
    try {
      body = JSON.parse(raw);
    } catch {
      body = undefined;
    }
    const rec = { method: req.method, url: req.url, headers: req.headers, raw, body };
    requests.push(rec);
    try {
      await handle(rec, res);
    } catch (e) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `fake ${name} crashed: ${e.message}` } }));
    }
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    name,
    server,
    requests,
    port: server.address().port,
    // The requests whose body mentions `tag`, in arrival order.
    withTag: (tag) => requests.filter((r) => r.raw.includes(tag)),
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

function sendJson(res, status, obj, headers = {}) {
  const body = JSON.stringify(obj);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

// Writes SSE frames one by one, yielding to the event loop between them so that they tend to
// arrive in separate TCP segments.
async function sendSse(res, frames) {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  for (const f of frames) {
    res.write(f);
    await new Promise((r) => setImmediate(r));
  }
  res.end();
}

// ---- the OpenAI-format fake -----------------------------------------------------------------

let oaSeq = 0;

function openaiView(body) {
  const msgs = Array.isArray(body?.messages) ? body.messages : [];
  const lastUser = msgs.findLast((m) => m?.role === 'user');
  const toolMsg = msgs.findLast((m) => m?.role === 'tool');
  return {
    lastUserText: textOf(lastUser?.content),
    toolResult: toolMsg ? textOf(toolMsg.content) : undefined,
    toolNames: (Array.isArray(body?.tools) ? body.tools : []).map((t) => t?.function?.name),
  };
}

async function openaiHandler(rec, res) {
  if (rec.method !== 'POST' || rec.url !== '/v1/chat/completions') {
    return sendJson(res, 404, { error: { message: `no route ${rec.method} ${rec.url}`, type: 'invalid_request_error', param: null, code: null } });
  }
  const body = rec.body ?? {};
  const plan = decide(openaiView(body));
  if (plan.kind === 'fail') {
    return sendJson(res, 429,
      { error: { message: OA_429, type: 'requests', param: null, code: 'rate_limit_exceeded' } });
  }
  const base = { id: `chatcmpl-fake${++oaSeq}`, created: Math.floor(Date.now() / 1000), model: body.model, system_fingerprint: null };
  const finish = plan.kind === 'tool' ? 'tool_calls' : 'stop';
  const text = plan.kind === 'greet' ? greetingFor(UPSTREAMS['gpt-fake'], plan.userText) : plan.text;
  const args = plan.kind === 'tool' ? JSON.stringify(plan.args) : '';

  if (!body.stream) {
    const message = plan.kind === 'tool'
      ? { role: 'assistant', content: null, refusal: null,
          tool_calls: [{ id: OA_CALL_ID, type: 'function', function: { name: plan.name, arguments: args } }] }
      : { role: 'assistant', content: text, refusal: null };
    return sendJson(res, 200, { ...base, object: 'chat.completion',
      choices: [{ index: 0, message, logprobs: null, finish_reason: finish }], usage: OA_USAGE });
  }

  const includeUsage = body.stream_options?.include_usage === true;
  const chunk = (delta, finishReason = null) => ({
    ...base, object: 'chat.completion.chunk',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    ...(includeUsage ? { usage: null } : {}),
  });
  const chunks = [];
  if (plan.kind === 'tool') {
    chunks.push(chunk({ role: 'assistant', content: null, tool_calls: [
      { index: 0, id: OA_CALL_ID, type: 'function', function: { name: plan.name, arguments: '' } }] }));
    for (const frag of pieces(args)) chunks.push(chunk({ tool_calls: [{ index: 0, function: { arguments: frag } }] }));
  } else {
    chunks.push(chunk({ role: 'assistant', content: '', refusal: null }));
    for (const p of pieces(text)) chunks.push(chunk({ content: p }));
  }
  chunks.push(chunk({}, finish));
  if (includeUsage) chunks.push({ ...base, object: 'chat.completion.chunk', choices: [], usage: OA_USAGE });
  return sendSse(res, [...chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`), 'data: [DONE]\n\n']);
}

// ---- the Anthropic-format fake --------------------------------------------------------------

let anSeq = 0;

function anthropicView(body) {
  const msgs = Array.isArray(body?.messages) ? body.messages : [];
  const lastUser = msgs.findLast((m) => m?.role === 'user');
  let toolResult;
  for (const m of msgs) {
    if (m?.role !== 'user' || !Array.isArray(m.content)) continue;
    for (const b of m.content) if (b?.type === 'tool_result') toolResult = textOf(b.content);
  }
  return {
    lastUserText: textOf(lastUser?.content),
    toolResult,
    toolNames: (Array.isArray(body?.tools) ? body.tools : []).map((t) => t?.name),
  };
}

const sseEvent = (obj) => `event: ${obj.type}\ndata: ${JSON.stringify(obj)}\n\n`;

async function anthropicHandler(rec, res) {
  if (rec.method !== 'POST' || rec.url !== '/v1/messages') {
    return sendJson(res, 404, { type: 'error', error: { type: 'not_found_error', message: `no route ${rec.method} ${rec.url}` } });
  }
  const body = rec.body ?? {};
  const plan = decide(anthropicView(body));
  if (plan.kind === 'fail') {
    return sendJson(res, 429, { type: 'error', error: { type: 'rate_limit_error', message: AN_429 } },
      { 'request-id': 'req_fake_429' });
  }
  const id = `msg_fake${++anSeq}`;
  const text = plan.kind === 'greet' ? greetingFor(UPSTREAMS['claude-fake'], plan.userText) : plan.text;
  const stopReason = plan.kind === 'tool' ? 'tool_use' : 'end_turn';
  const usage = { input_tokens: AN_USAGE.input_tokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };

  if (!body.stream) {
    const content = plan.kind === 'tool'
      ? [{ type: 'text', text: AN_LEAD_IN }, { type: 'tool_use', id: AN_TOOL_ID, name: plan.name, input: plan.args }]
      : [{ type: 'text', text }];
    return sendJson(res, 200, { id, type: 'message', role: 'assistant', model: body.model, content,
      stop_reason: stopReason, stop_sequence: null, usage: { ...usage, output_tokens: AN_USAGE.output_tokens } });
  }

  const events = [{ type: 'message_start', message: { id, type: 'message', role: 'assistant', model: body.model,
    content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } } }];
  const textBlock = (index, t) => [
    { type: 'content_block_start', index, content_block: { type: 'text', text: '' } },
    ...pieces(t).map((p) => ({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: p } })),
    { type: 'content_block_stop', index },
  ];
  if (plan.kind === 'tool') {
    events.push(...textBlock(0, AN_LEAD_IN));
    events.push({ type: 'content_block_start', index: 1,
      content_block: { type: 'tool_use', id: AN_TOOL_ID, name: plan.name, input: {} } });
    events.push({ type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '' } });
    for (const frag of pieces(JSON.stringify(plan.args))) {
      events.push({ type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: frag } });
    }
    events.push({ type: 'content_block_stop', index: 1 });
  } else {
    events.push(...textBlock(0, text));
  }
  events.splice(2, 0, { type: 'ping' });
  events.push({ type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null },
    usage: { output_tokens: AN_USAGE.output_tokens } });
  events.push({ type: 'message_stop' });
  return sendSse(res, events.map(sseEvent));
}

// ---- the gateway ----------------------------------------------------------------------------

let oaFake;
let anFake;
let gateway;     // { child, port, output(), exited: Promise<{code, signal}> }
let tmpDir;
let baseUrl;     // http://127.0.0.1:PORT
let openai;
let anthropic;

function startGateway(configPath) {
  const child = spawn(BATON_BIN, ['--config', configPath], {
    env: { ...process.env, E2E_KEY: UPSTREAM_KEY },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d) => { out = (out + d.toString('utf8')).slice(-200_000); };
  child.stdout.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(
      `the gateway did not print its listening line within ${START_TIMEOUT_MS} ms:\n${out}`)), START_TIMEOUT_MS);
    child.stderr.on('data', (d) => {
      keep(d);
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('error', (e) => { clearTimeout(timer); reject(e); });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the gateway exited (code ${code}, signal ${signal}) before listening:\n${out}`));
    });
  });
  return ready.then((port) => ({ child, port, exited, output: () => out }));
}

before(async () => {
  oaFake = await startFake('openai', openaiHandler);
  anFake = await startFake('anthropic', anthropicHandler);
  tmpDir = mkdtempSync(path.join(tmpdir(), 'baton-e2e-providers-'));
  const config = path.join(tmpDir, 'baton.yaml');
  writeFileSync(config, `server: {listen: 127.0.0.1:0, threads: 1}
logging: {level: warn, access_log: "off"}
providers:
  - {name: oa, kind: openai, base_url: "http://127.0.0.1:${oaFake.port}/v1", api_key: env:E2E_KEY, resilience: {max_retries: 0}}
  - {name: an, kind: anthropic, base_url: "http://127.0.0.1:${anFake.port}/v1", api_key: env:E2E_KEY, resilience: {max_retries: 0}}
models:
  - {name: gpt-fake, provider: oa, upstream_model: gpt-4o-mini}
  - {name: claude-fake, provider: an, upstream_model: claude-sonnet-4-5, max_output_tokens: 1024}
`);
  gateway = await startGateway(config);
  baseUrl = `http://127.0.0.1:${gateway.port}`;
  openai = new OpenAI({ baseURL: `${baseUrl}/v1`, apiKey: CLIENT_KEY, maxRetries: 0, timeout: 10_000 });
  anthropic = new Anthropic({ baseURL: baseUrl, apiKey: CLIENT_KEY, maxRetries: 0, timeout: 10_000 });
});

after(async () => {
  try {
    if (gateway) {
      gateway.child.kill('SIGTERM');
      const t0 = Date.now();
      let timer;
      const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve(null), STOP_TIMEOUT_MS); });
      const res = await Promise.race([gateway.exited, timeout]);
      clearTimeout(timer);
      console.log(`# gateway stopped ${Date.now() - t0} ms after SIGTERM: ${JSON.stringify(res)}`);
      if (res === null) gateway.child.kill('SIGKILL');
      assert.ok(res !== null, `the gateway did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM`);
      assert.deepEqual(res, { code: 0, signal: null },
        `the gateway did not exit cleanly after SIGTERM; its output:\n${gateway.output()}`);
    }
  } finally {
    await Promise.all([oaFake?.close(), anFake?.close()]);
    if (tmpDir) rmSync(tmpDir, { recursive: true, force: true });
  }
});

// ---- helpers for the tests ------------------------------------------------------------------

async function expectError(fn, cls) {
  let err;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected ${cls.name}, but the call succeeded`);
  assert.ok(err instanceof cls, `expected ${cls.name}, got ${err?.constructor?.name}: ${err?.message}`);
  return err;
}

const fakeFor = (up) => (up.format === 'openai' ? oaFake : anFake);

// The upstream requests that carry `tag`; asserts their number.
function upstreamRequests(up, tag, n) {
  const got = fakeFor(up).withTag(tag);
  assert.equal(got.length, n, `${up.format} upstream got ${got.length} request(s) tagged ${tag}, expected ${n}`);
  for (const r of got) assertUpstreamEnvelope(up, r);
  return got;
}

// Path, credentials and model of a request that reached a fake.
function assertUpstreamEnvelope(up, r) {
  assert.equal(r.method, 'POST');
  assert.ok(r.body && typeof r.body === 'object', `upstream body is not JSON: ${r.raw}`);
  assert.equal(r.body.model, up.upstreamModel);
  if (up.format === 'openai') {
    assert.equal(r.url, '/v1/chat/completions');
    assert.equal(r.headers.authorization, `Bearer ${UPSTREAM_KEY}`);
    assert.equal(r.headers['x-api-key'], undefined, 'x-api-key sent to an OpenAI upstream');
  } else {
    assert.equal(r.url, '/v1/messages');
    assert.equal(r.headers['x-api-key'], UPSTREAM_KEY);
    assert.equal(r.headers['anthropic-version'], '2023-06-01');
    assert.equal(r.headers.authorization, undefined, 'Authorization sent to an Anthropic upstream');
    assert.equal(typeof r.body.max_tokens, 'number', 'Anthropic requests need max_tokens');
  }
  assert.ok(!r.raw.includes(CLIENT_KEY), 'the client key leaked upstream');
}

// The system prompt and the user text as the upstream received them.
function assertUpstreamPrompt(up, r, userText) {
  if (up.format === 'openai') {
    const msgs = r.body.messages;
    assert.equal(msgs[0].role, 'system');
    assert.equal(textOf(msgs[0].content), SYSTEM_PROMPT);
    assert.equal(msgs.at(-1).role, 'user');
    assert.equal(textOf(msgs.at(-1).content), userText);
  } else {
    assert.equal(textOf(r.body.system), SYSTEM_PROMPT);
    assert.equal(r.body.messages.length, 1);
    assert.equal(r.body.messages[0].role, 'user');
    assert.equal(textOf(r.body.messages[0].content), userText);
  }
}

// The tool definition as the upstream received it.
function assertUpstreamTools(up, r) {
  assert.ok(Array.isArray(r.body.tools) && r.body.tools.length === 1, `tools: ${JSON.stringify(r.body.tools)}`);
  const [t] = r.body.tools;
  if (up.format === 'openai') {
    assert.equal(t.type, 'function');
    assert.equal(t.function.name, WEATHER_TOOL.name);
    assert.equal(t.function.description, WEATHER_TOOL.description);
    assert.deepEqual(t.function.parameters, WEATHER_TOOL.schema);
  } else {
    assert.equal(t.name, WEATHER_TOOL.name);
    assert.equal(t.description, WEATHER_TOOL.description);
    assert.deepEqual(t.input_schema, WEATHER_TOOL.schema);
  }
}

// The second turn of a tool round trip as the upstream received it: the assistant's tool call
// and the tool's result, in the upstream's own format.
function assertUpstreamToolTurn(up, r, userText) {
  assertUpstreamTools(up, r);
  const msgs = r.body.messages;
  if (up.format === 'openai') {
    const nonSystem = msgs.filter((m) => m.role !== 'system');
    assert.deepEqual(nonSystem.map((m) => m.role), ['user', 'assistant', 'tool'], JSON.stringify(msgs));
    assert.equal(textOf(nonSystem[0].content), userText);
    const calls = nonSystem[1].tool_calls;
    assert.ok(Array.isArray(calls) && calls.length === 1, `assistant tool_calls: ${JSON.stringify(nonSystem[1])}`);
    assert.equal(calls[0].id, up.toolId);
    assert.equal(calls[0].type, 'function');
    assert.equal(calls[0].function.name, WEATHER_TOOL.name);
    assert.equal(typeof calls[0].function.arguments, 'string');
    assert.deepEqual(JSON.parse(calls[0].function.arguments), TOOL_ARGS);
    assert.equal(nonSystem[2].tool_call_id, up.toolId);
    assert.equal(textOf(nonSystem[2].content), TOOL_RESULT);
  } else {
    assert.deepEqual(msgs.map((m) => m.role), ['user', 'assistant', 'user'], JSON.stringify(msgs));
    assert.equal(textOf(msgs[0].content), userText);
    const blocks = msgs[1].content;
    assert.ok(Array.isArray(blocks), `assistant content: ${JSON.stringify(msgs[1])}`);
    const uses = blocks.filter((b) => b.type === 'tool_use');
    assert.equal(uses.length, 1, `assistant content: ${JSON.stringify(blocks)}`);
    assert.equal(uses[0].id, up.toolId);
    assert.equal(uses[0].name, WEATHER_TOOL.name);
    assert.deepEqual(uses[0].input, TOOL_ARGS);
    assert.ok(Array.isArray(msgs[2].content), `tool result turn: ${JSON.stringify(msgs[2])}`);
    const [result] = msgs[2].content;
    assert.equal(result.type, 'tool_result', 'the user turn must start with the tool_result');
    assert.equal(result.tool_use_id, up.toolId);
    assert.equal(textOf(result.content), TOOL_RESULT);
  }
}

// Raw POST to the gateway (to look at the SSE bytes the SDKs would not show).
async function rawPost(pathname, body, headers) {
  const res = await fetch(`${baseUrl}${pathname}`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body),
  });
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text: await res.text() };
}

// ---- the openai SDK (POST /v1/chat/completions) ---------------------------------------------

const oaTools = [{ type: 'function', function: {
  name: WEATHER_TOOL.name, description: WEATHER_TOOL.description, parameters: WEATHER_TOOL.schema } }];

function openaiUsage(up) {
  return { prompt_tokens: up.usage.input, completion_tokens: up.usage.output,
    total_tokens: up.usage.input + up.usage.output };
}

for (const up of Object.values(UPSTREAMS)) {
  describe(`openai SDK -> /v1/chat/completions -> ${up.model} (${up.format} upstream)`, () => {
    const tagBase = `oa-sdk:${up.model}`;
    const ask = (userText) => [{ role: 'system', content: SYSTEM_PROMPT }, { role: 'user', content: userText }];

    test('plain completion', TIMEOUT, async () => {
      const userText = `Say hello [${tagBase}:plain]`;
      const r = await openai.chat.completions.create({ model: up.model, messages: ask(userText) });
      assert.equal(r.object, 'chat.completion');
      assert.equal(r.choices.length, 1);
      assert.equal(r.choices[0].message.role, 'assistant');
      assert.equal(r.choices[0].message.content, greetingFor(up, userText));
      assert.equal(r.choices[0].finish_reason, 'stop');
      assert.ok(!r.choices[0].message.tool_calls?.length, 'no tool calls expected');
      assert.deepEqual(
        { prompt_tokens: r.usage.prompt_tokens, completion_tokens: r.usage.completion_tokens, total_tokens: r.usage.total_tokens },
        openaiUsage(up));

      const [sent] = upstreamRequests(up, `${tagBase}:plain`, 1);
      assertUpstreamPrompt(up, sent, userText);
      assert.ok(!sent.body.stream, 'a non-streaming request was sent as a stream');
      if (up.format === 'anthropic') assert.equal(sent.body.max_tokens, 1024, 'the model\'s max_output_tokens');
    });

    test('streaming (stream: true, include_usage) ends with finish_reason, usage and [DONE]', TIMEOUT, async () => {
      const userText = `Stream a hello [${tagBase}:stream]`;
      const stream = await openai.chat.completions.create({
        model: up.model, messages: ask(userText), stream: true, stream_options: { include_usage: true },
      });
      const chunks = [];
      let content = '';
      for await (const c of stream) {
        chunks.push(c);
        for (const ch of c.choices) if (typeof ch.delta?.content === 'string') content += ch.delta.content;
      }
      assert.equal(content, greetingFor(up, userText));
      assert.ok(chunks.length >= 3, `only ${chunks.length} chunk(s)`);
      for (const c of chunks) {
        assert.equal(c.object, 'chat.completion.chunk');
        assert.equal(c.id, chunks[0].id, 'all chunks share one id');
      }
      assert.equal(chunks[0].choices[0].delta.role, 'assistant');
      const finish = chunks.filter((c) => c.choices[0]?.finish_reason != null);
      assert.equal(finish.length, 1, 'exactly one chunk carries finish_reason');
      assert.equal(finish[0].choices[0].finish_reason, 'stop');
      const last = chunks.at(-1);
      assert.deepEqual(last.choices, [], 'the usage chunk has empty choices');
      assert.deepEqual(
        { prompt_tokens: last.usage.prompt_tokens, completion_tokens: last.usage.completion_tokens, total_tokens: last.usage.total_tokens },
        openaiUsage(up));

      const [sent] = upstreamRequests(up, `${tagBase}:stream`, 1);
      assertUpstreamPrompt(up, sent, userText);
      assert.equal(sent.body.stream, true);
      if (up.format === 'openai') assert.equal(sent.body.stream_options?.include_usage, true);

      // The raw SSE: JSON data lines only, terminated by [DONE].
      const raw = await rawPost('/v1/chat/completions',
        { model: up.model, messages: ask(`${userText} raw`), stream: true }, { authorization: `Bearer ${CLIENT_KEY}` });
      assert.equal(raw.status, 200, raw.text);
      assert.match(raw.contentType, /^text\/event-stream/);
      assert.match(raw.text, /data: \[DONE\]\n\n$/, `stream does not end with [DONE]:\n${raw.text}`);
      assert.doesNotMatch(raw.text, /"error"/);
      const rawContent = raw.text.split('\n').filter((l) => l.startsWith('data: {'))
        .map((l) => JSON.parse(l.slice(6))).map((c) => c.choices?.[0]?.delta?.content ?? '').join('');
      assert.equal(rawContent, greetingFor(up, `${userText} raw`));
      assert.doesNotMatch(raw.text, /"usage":\{/, 'usage chunk sent although the client did not ask for it');
    });

    test('tool-call round trip', TIMEOUT, async () => {
      const tag = `${tagBase}:tools`;
      const userText = `What is the weather in Paris? [${tag}]`;
      const messages = ask(userText);
      const first = await openai.chat.completions.create({ model: up.model, messages, tools: oaTools });
      const msg = first.choices[0].message;
      assert.equal(first.choices[0].finish_reason, 'tool_calls');
      assert.equal(msg.content ?? null, up.leadIn, 'text before the tool call');
      assert.equal(msg.tool_calls?.length, 1, JSON.stringify(msg));
      const [call] = msg.tool_calls;
      assert.equal(call.type, 'function');
      assert.equal(call.id, up.toolId);
      assert.equal(call.function.name, WEATHER_TOOL.name);
      assert.deepEqual(JSON.parse(call.function.arguments), TOOL_ARGS);

      messages.push(msg, { role: 'tool', tool_call_id: call.id, content: TOOL_RESULT });
      const second = await openai.chat.completions.create({ model: up.model, messages, tools: oaTools });
      assert.equal(second.choices[0].finish_reason, 'stop');
      assert.equal(second.choices[0].message.content, ANSWER_PREFIX + TOOL_RESULT);

      const [sent1, sent2] = upstreamRequests(up, tag, 2);
      assertUpstreamTools(up, sent1);
      assertUpstreamPrompt(up, sent1, userText);
      assertUpstreamToolTurn(up, sent2, userText);
    });

    test('streamed tool-call round trip (chat.completions.stream helper)', TIMEOUT, async () => {
      const tag = `${tagBase}:stream-tools`;
      const userText = `What is the weather in Paris? [${tag}]`;
      const messages = ask(userText);
      const argFragments = [];
      const s1 = openai.chat.completions.stream({ model: up.model, messages, tools: oaTools });
      s1.on('tool_calls.function.arguments.delta', (e) => argFragments.push(e.arguments_delta));
      const first = await s1.finalChatCompletion();
      const msg = first.choices[0].message;
      assert.equal(first.choices[0].finish_reason, 'tool_calls');
      assert.equal(msg.content ?? null, up.leadIn);
      assert.equal(msg.tool_calls?.length, 1, JSON.stringify(msg));
      const [call] = msg.tool_calls;
      assert.equal(call.id, up.toolId);
      assert.equal(call.function.name, WEATHER_TOOL.name);
      assert.deepEqual(JSON.parse(call.function.arguments), TOOL_ARGS);
      assert.ok(argFragments.length >= 2, `arguments arrived in ${argFragments.length} fragment(s)`);
      assert.equal(argFragments.join(''), call.function.arguments);

      messages.push({ role: 'assistant', content: msg.content ?? null, tool_calls: msg.tool_calls },
        { role: 'tool', tool_call_id: call.id, content: TOOL_RESULT });
      const s2 = openai.chat.completions.stream({ model: up.model, messages, tools: oaTools });
      const second = await s2.finalChatCompletion();
      assert.equal(second.choices[0].finish_reason, 'stop');
      assert.equal(second.choices[0].message.content, ANSWER_PREFIX + TOOL_RESULT);

      const [sent1, sent2] = upstreamRequests(up, tag, 2);
      assert.equal(sent1.body.stream, true);
      assertUpstreamTools(up, sent1);
      assertUpstreamToolTurn(up, sent2, userText);
    });

    test('an upstream 429 -> OpenAI.RateLimitError (plain and streaming)', TIMEOUT, async () => {
      const tag = `${tagBase}:error`;
      const body = { model: up.model, messages: ask(`please fail [${tag}]`) };
      const err = await expectError(() => openai.chat.completions.create(body), OpenAI.RateLimitError);
      assert.equal(err.status, 429);
      assert.ok(err instanceof OpenAI.APIError);
      assert.ok(err.message.includes(up.rateLimitMessage), err.message);
      assert.ok(err.error?.message?.includes(up.rateLimitMessage), JSON.stringify(err.error));
      assert.equal(err.code, 'rate_limit_exceeded');
      if (up.format === 'anthropic') assert.equal(err.type, 'rate_limit_error');

      const serr = await expectError(async () => {
        const s = await openai.chat.completions.create({ ...body, stream: true });
        for await (const _c of s) { /* drain */ }
      }, OpenAI.RateLimitError);
      assert.equal(serr.status, 429);
      assert.match(serr.message, /\(fake\)/);

      // One upstream request per call: no retries by Baton (max_retries 0) or the SDK.
      upstreamRequests(up, tag, 2);
    });
  });
}

// ---- the Anthropic SDK (POST /v1/messages) --------------------------------------------------

const anTools = [{ name: WEATHER_TOOL.name, description: WEATHER_TOOL.description, input_schema: WEATHER_TOOL.schema }];

function assertAnthropicMessage(m, up) {
  assert.equal(m.type, 'message');
  assert.equal(m.role, 'assistant');
  assert.equal(typeof m.id, 'string');
  assert.equal(typeof m.model, 'string');
  assert.equal(m.usage.input_tokens, up.usage.input, `usage: ${JSON.stringify(m.usage)}`);
  assert.equal(m.usage.output_tokens, up.usage.output, `usage: ${JSON.stringify(m.usage)}`);
}

// The tool_use turn: optional lead-in text, then exactly one tool_use block.
function assertToolUse(m, up) {
  assert.equal(m.stop_reason, 'tool_use');
  const texts = m.content.filter((b) => b.type === 'text').map((b) => b.text).join('');
  assert.equal(texts, up.leadIn ?? '', `content: ${JSON.stringify(m.content)}`);
  const uses = m.content.filter((b) => b.type === 'tool_use');
  assert.equal(uses.length, 1, `content: ${JSON.stringify(m.content)}`);
  assert.equal(m.content.at(-1).type, 'tool_use', 'the tool_use block comes last');
  assert.equal(uses[0].id, up.toolId);
  assert.equal(uses[0].name, WEATHER_TOOL.name);
  assert.deepEqual(uses[0].input, TOOL_ARGS);
  return uses[0];
}

for (const up of Object.values(UPSTREAMS)) {
  describe(`Anthropic SDK -> /v1/messages -> ${up.model} (${up.format} upstream)`, () => {
    const tagBase = `an-sdk:${up.model}`;
    const ask = (userText) => ({
      model: up.model, max_tokens: 256, system: SYSTEM_PROMPT, messages: [{ role: 'user', content: userText }],
    });

    test('plain message', TIMEOUT, async () => {
      const userText = `Say hello [${tagBase}:plain]`;
      const m = await anthropic.messages.create(ask(userText));
      assertAnthropicMessage(m, up);
      assert.equal(m.stop_reason, 'end_turn');
      assert.equal(m.content.length, 1, JSON.stringify(m.content));
      assert.equal(m.content[0].type, 'text');
      assert.equal(m.content[0].text, greetingFor(up, userText));

      const [sent] = upstreamRequests(up, `${tagBase}:plain`, 1);
      assertUpstreamPrompt(up, sent, userText);
      assert.ok(!sent.body.stream);
      if (up.format === 'anthropic') assert.equal(sent.body.max_tokens, 256);
      else assert.equal(sent.body.max_completion_tokens ?? sent.body.max_tokens, 256);
    });

    test('streaming (messages.stream, finalMessage) ends with message_stop', TIMEOUT, async () => {
      const userText = `Stream a hello [${tagBase}:stream]`;
      const stream = anthropic.messages.stream(ask(userText));
      const deltas = [];
      const events = [];
      stream.on('text', (d) => deltas.push(d));
      stream.on('streamEvent', (e) => events.push(e.type));
      const m = await stream.finalMessage();
      assertAnthropicMessage(m, up);
      assert.equal(m.stop_reason, 'end_turn');
      assert.equal(m.content.length, 1, JSON.stringify(m.content));
      assert.equal(m.content[0].text, greetingFor(up, userText));
      assert.ok(deltas.length >= 2, `text arrived in ${deltas.length} delta(s)`);
      assert.equal(deltas.join(''), greetingFor(up, userText));
      assert.equal(events[0], 'message_start');
      assert.equal(events.at(-1), 'message_stop');
      assert.ok(events.includes('message_delta'), `events: ${events.join(' ')}`);

      const [sent] = upstreamRequests(up, `${tagBase}:stream`, 1);
      assertUpstreamPrompt(up, sent, userText);
      assert.equal(sent.body.stream, true);

      // The raw SSE: every event named, the last one message_stop, no OpenAI terminator.
      const raw = await rawPost('/v1/messages', { ...ask(`${userText} raw`), stream: true },
        { 'x-api-key': CLIENT_KEY, 'anthropic-version': '2023-06-01' });
      assert.equal(raw.status, 200, raw.text);
      assert.match(raw.contentType, /^text\/event-stream/);
      const frames = raw.text.split('\n\n').filter((f) => f.trim() !== '');
      for (const f of frames) {
        const ev = /^event: (\S+)$/m.exec(f)?.[1];
        const data = /^data: (.*)$/m.exec(f)?.[1];
        assert.ok(ev && data, `frame without event/data: ${JSON.stringify(f)}`);
        assert.equal(JSON.parse(data).type, ev);
      }
      assert.match(frames.at(-1), /^event: message_stop$/m, `the stream does not end with message_stop:\n${raw.text}`);
      assert.doesNotMatch(raw.text, /\[DONE\]|event: error/);
    });

    test('tool-use round trip', TIMEOUT, async () => {
      const tag = `${tagBase}:tools`;
      const userText = `What is the weather in Paris? [${tag}]`;
      const params = ask(userText);
      const first = await anthropic.messages.create({ ...params, tools: anTools });
      assertAnthropicMessage(first, up);
      const use = assertToolUse(first, up);

      const messages = [...params.messages, { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: TOOL_RESULT }] }];
      const second = await anthropic.messages.create({ ...params, messages, tools: anTools });
      assertAnthropicMessage(second, up);
      assert.equal(second.stop_reason, 'end_turn');
      assert.deepEqual(second.content.map((b) => b.type), ['text']);
      assert.equal(second.content[0].text, ANSWER_PREFIX + TOOL_RESULT);

      const [sent1, sent2] = upstreamRequests(up, tag, 2);
      assertUpstreamTools(up, sent1);
      assertUpstreamPrompt(up, sent1, userText);
      assertUpstreamToolTurn(up, sent2, userText);
    });

    test('streamed tool-use round trip (input_json deltas)', TIMEOUT, async () => {
      const tag = `${tagBase}:stream-tools`;
      const userText = `What is the weather in Paris? [${tag}]`;
      const params = ask(userText);
      const s1 = anthropic.messages.stream({ ...params, tools: anTools });
      const jsonFragments = [];
      s1.on('inputJson', (partial) => jsonFragments.push(partial));
      const first = await s1.finalMessage();
      assertAnthropicMessage(first, up);
      const use = assertToolUse(first, up);
      assert.ok(jsonFragments.filter((f) => f !== '').length >= 2,
        `tool input arrived in ${jsonFragments.length} fragment(s)`);
      assert.deepEqual(JSON.parse(jsonFragments.join('')), TOOL_ARGS);

      const messages = [...params.messages, { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: TOOL_RESULT }] }];
      const s2 = anthropic.messages.stream({ ...params, messages, tools: anTools });
      const second = await s2.finalMessage();
      assert.equal(second.stop_reason, 'end_turn');
      assert.equal(await s2.finalText(), ANSWER_PREFIX + TOOL_RESULT);

      const [sent1, sent2] = upstreamRequests(up, tag, 2);
      assert.equal(sent1.body.stream, true);
      assertUpstreamTools(up, sent1);
      assertUpstreamToolTurn(up, sent2, userText);
    });

    test('an upstream 429 -> Anthropic.RateLimitError (plain and streaming)', TIMEOUT, async () => {
      const tag = `${tagBase}:error`;
      const params = ask(`please fail [${tag}]`);
      const err = await expectError(() => anthropic.messages.create(params), Anthropic.RateLimitError);
      assert.equal(err.status, 429);
      assert.ok(err instanceof Anthropic.APIError);
      assert.equal(err.error?.type, 'error', JSON.stringify(err.error));
      assert.equal(err.error?.error?.type, 'rate_limit_error', JSON.stringify(err.error));
      assert.ok(err.error?.error?.message.includes(up.rateLimitMessage), JSON.stringify(err.error));

      const serr = await expectError(() => anthropic.messages.stream(params).finalMessage(),
        Anthropic.RateLimitError);
      assert.equal(serr.status, 429);
      assert.equal(serr.error?.error?.type, 'rate_limit_error', JSON.stringify(serr.error));

      upstreamRequests(up, tag, 2);
    });
  });
}
