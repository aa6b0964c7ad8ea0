// End-to-end tests of Baton with the official `openai` npm client. Run by tests/e2e/run.sh,
// which starts the gateway with the config below and exports BATON_URL (…/v1):
//
//   providers: demo   (mock: latency 5ms, tokens 12, chunk_delay 2ms)
//              broken (mock: error_rate 1.0, error_statuses [503])
//   models:    demo-small -> demo, always-fails -> broken
//
// Only node:test and node:assert; no other test framework.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';

const BASE_URL = process.env.BATON_URL;
const TIMEOUT = { timeout: 15_000 };

let client;

before(() => {
  assert.ok(BASE_URL, 'BATON_URL must be set (run the suite via tests/e2e/run.sh)');
  client = new OpenAI({ baseURL: BASE_URL, apiKey: 'test', maxRetries: 0, timeout: 10_000 });
});

const hi = () => ({ model: 'demo-small', messages: [{ role: 'user', content: 'hi' }] });

// Runs `fn`, expects it to throw an instance of `cls`, returns the error.
async function expectError(fn, cls) {
  let err;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected ${cls.name}, but the call succeeded`);
  assert.ok(err instanceof cls,
    `expected ${cls.name}, got ${err?.constructor?.name}: ${err?.message}`);
  return err;
}

// Raw POST to the gateway, bypassing the SDK (for bodies the SDK would never send).
async function rawPost(path, body, headers = {}) {
  const res = await fetch(`${BASE_URL}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer test', ...headers },
    body,
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { res, text, json };
}

function assertErrorEnvelope(json, text) {
  assert.ok(json && typeof json === 'object', `error body is not JSON: ${text}`);
  assert.ok(json.error && typeof json.error === 'object', `no "error" object in: ${text}`);
  assert.equal(typeof json.error.message, 'string');
  assert.ok(json.error.message.length > 0, 'error.message is empty');
  assert.equal(typeof json.error.type, 'string');
}

// Collects a stream: all chunks plus the concatenated delta content.
async function collect(stream) {
  const chunks = [];
  let content = '';
  for await (const chunk of stream) {
    chunks.push(chunk);
    for (const choice of chunk.choices ?? []) {
      if (typeof choice.delta?.content === 'string') content += choice.delta.content;
    }
  }
  return { chunks, content };
}

describe('chat completions (non-streaming)', () => {
  test('returns a chat.completion with an assistant message and usage', TIMEOUT, async () => {
    const r = await client.chat.completions.create(hi());
    assert.equal(r.object, 'chat.completion');
    assert.equal(typeof r.id, 'string');
    assert.ok(r.id.length > 0, 'id is empty');
    assert.equal(typeof r.created, 'number');
    assert.equal(typeof r.model, 'string');
    assert.ok(Array.isArray(r.choices) && r.choices.length === 1, 'expected exactly one choice');
    const [choice] = r.choices;
    assert.equal(choice.index, 0);
    assert.equal(choice.message.role, 'assistant');
    assert.equal(typeof choice.message.content, 'string');
    assert.ok(choice.message.content.length > 0, 'assistant content is empty');
    assert.equal(choice.finish_reason, 'stop');
    assert.ok(r.usage, 'usage missing');
    assert.ok(r.usage.prompt_tokens > 0, `prompt_tokens=${r.usage.prompt_tokens}`);
    assert.equal(r.usage.completion_tokens, 12);
    assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
  });

  test('the mock is deterministic for the same request', TIMEOUT, async () => {
    const a = await client.chat.completions.create(hi());
    const b = await client.chat.completions.create(hi());
    assert.equal(a.choices[0].message.content, b.choices[0].message.content);
    assert.deepEqual(a.usage, b.usage);
  });

  test('concurrent requests all succeed', TIMEOUT, async () => {
    const results = await Promise.all(
      Array.from({ length: 16 }, () => client.chat.completions.create(hi())));
    for (const r of results) {
      assert.equal(r.object, 'chat.completion');
      assert.equal(r.usage.completion_tokens, 12);
    }
    assert.equal(new Set(results.map((r) => r.id)).size, results.length, 'ids are not unique');
  });
});

describe('chat completions (streaming)', () => {
  test('yields chunks whose deltas equal the non-streaming content', TIMEOUT, async () => {
    const full = await client.chat.completions.create(hi());
    const stream = await client.chat.completions.create({ ...hi(), stream: true });
    const { chunks, content } = await collect(stream);

    assert.ok(chunks.length >= 2, `only ${chunks.length} chunk(s)`);
    for (const c of chunks) {
      assert.equal(c.object, 'chat.completion.chunk');
      assert.equal(c.id, chunks[0].id, 'all chunks must share one id');
      assert.ok(c.usage == null, 'usage must not be sent without stream_options.include_usage');
    }
    assert.equal(chunks[0].choices[0].delta.role, 'assistant');
    assert.ok(content.length > 0, 'streamed content is empty');
    assert.equal(content, full.choices[0].message.content);

    const last = chunks.at(-1);
    assert.equal(last.choices.length, 1);
    assert.equal(last.choices[0].finish_reason, 'stop');
    for (const c of chunks.slice(0, -1)) {
      assert.ok(c.choices[0].finish_reason == null, 'finish_reason before the last chunk');
    }
  });

  test('stream_options.include_usage adds a final usage chunk', TIMEOUT, async () => {
    const full = await client.chat.completions.create(hi());
    const stream = await client.chat.completions.create({
      ...hi(), stream: true, stream_options: { include_usage: true },
    });
    const { chunks, content } = await collect(stream);
    assert.equal(content, full.choices[0].message.content);

    const last = chunks.at(-1);
    assert.ok(last.usage, 'last chunk carries no usage');
    assert.deepEqual(last.choices, [], 'the usage chunk has empty choices');
    assert.ok(last.usage.prompt_tokens > 0);
    assert.equal(last.usage.completion_tokens, 12);
    assert.equal(last.usage.total_tokens, last.usage.prompt_tokens + last.usage.completion_tokens);
    assert.deepEqual(last.usage, full.usage);

    const finish = chunks.at(-2);
    assert.equal(finish.choices[0].finish_reason, 'stop');
    for (const c of chunks.slice(0, -1)) {
      assert.ok(c.usage == null, 'only the final chunk carries usage');
    }
  });

  test('a client that disconnects mid-stream does not break the gateway', TIMEOUT, async () => {
    const stream = await client.chat.completions.create({ ...hi(), stream: true });
    let n = 0;
    for await (const _chunk of stream) {
      if (++n === 2) break;  // breaking out aborts the underlying request
    }
    assert.equal(n, 2);
    const r = await client.chat.completions.create(hi());
    assert.equal(r.usage.completion_tokens, 12);
  });
});

describe('errors', () => {
  test('unknown model -> NotFoundError 404 listing the available models', TIMEOUT, async () => {
    const err = await expectError(
      () => client.chat.completions.create({ ...hi(), model: 'no-such-model' }),
      OpenAI.NotFoundError);
    assert.equal(err.status, 404);
    assert.match(err.message, /demo-small/);
    assert.match(err.error?.message ?? '', /demo-small/);
    assert.equal(err.code, 'model_not_found');
    assert.equal(err.type, 'invalid_request_error');
  });

  test('unknown model while streaming -> NotFoundError 404', TIMEOUT, async () => {
    const err = await expectError(async () => {
      const s = await client.chat.completions.create({ ...hi(), model: 'no-such-model', stream: true });
      await collect(s);
    }, OpenAI.NotFoundError);
    assert.equal(err.status, 404);
  });

  test('always-fails -> InternalServerError 503', TIMEOUT, async () => {
    const err = await expectError(
      () => client.chat.completions.create({ ...hi(), model: 'always-fails' }),
      OpenAI.InternalServerError);
    assert.ok(err instanceof OpenAI.APIError);
    assert.equal(err.status, 503);
    assert.equal(typeof err.error?.message, 'string');
  });

  test('always-fails while streaming -> InternalServerError 503', TIMEOUT, async () => {
    const err = await expectError(async () => {
      const s = await client.chat.completions.create({ ...hi(), model: 'always-fails', stream: true });
      await collect(s);
    }, OpenAI.APIError);
    assert.equal(err.status, 503);
  });

  test('messages is a string -> BadRequestError 400', TIMEOUT, async () => {
    const err = await expectError(
      () => client.chat.completions.create({ model: 'demo-small', messages: 'hi' }),
      OpenAI.BadRequestError);
    assert.equal(err.status, 400);
    assert.equal(err.type, 'invalid_request_error');
  });

  test('missing messages -> BadRequestError 400', TIMEOUT, async () => {
    const err = await expectError(
      () => client.chat.completions.create({ model: 'demo-small' }),
      OpenAI.BadRequestError);
    assert.equal(err.status, 400);
    assert.equal(err.type, 'invalid_request_error');
  });

  test('raw: messages is a string -> 400 with an OpenAI error envelope', TIMEOUT, async () => {
    const { res, text, json } = await rawPost('/chat/completions',
      JSON.stringify({ model: 'demo-small', messages: 'hi' }));
    assert.equal(res.status, 400, text);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    assertErrorEnvelope(json, text);
    assert.equal(json.error.type, 'invalid_request_error');
  });

  test('raw: body that is not JSON -> 400 with an OpenAI error envelope', TIMEOUT, async () => {
    const { res, text, json } = await rawPost('/chat/completions', '{"model": "demo-small", ');
    assert.equal(res.status, 400, text);
    assertErrorEnvelope(json, text);
    assert.equal(json.error.type, 'invalid_request_error');
  });

  test('the gateway still serves after the error cases', TIMEOUT, async () => {
    const r = await client.chat.completions.create(hi());
    assert.equal(r.choices[0].finish_reason, 'stop');
  });
});

describe('models', () => {
  test('models.list() includes the configured models', TIMEOUT, async () => {
    const page = await client.models.list();
    const ids = page.data.map((m) => m.id);
    assert.ok(ids.includes('demo-small'), `models: ${JSON.stringify(ids)}`);
    assert.ok(ids.includes('always-fails'), `models: ${JSON.stringify(ids)}`);
    for (const m of page.data) {
      assert.equal(m.object, 'model');
      assert.equal(typeof m.id, 'string');
    }
  });
});

describe('response headers', () => {
  test('withResponse() shows x-baton-model and x-request-id', TIMEOUT, async () => {
    const { data, response, request_id } = await client.chat.completions.create(hi()).withResponse();
    assert.equal(data.object, 'chat.completion');
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-baton-model'), 'demo-small');
    const rid = response.headers.get('x-request-id');
    assert.ok(rid && rid.length > 0, 'x-request-id missing');
    assert.equal(request_id, rid);
  });

  test('x-request-id differs between requests', TIMEOUT, async () => {
    const a = await client.chat.completions.create(hi()).asResponse();
    const b = await client.chat.completions.create(hi()).asResponse();
    await Promise.all([a.text(), b.text()]);
    assert.ok(a.headers.get('x-request-id'));
    assert.notEqual(a.headers.get('x-request-id'), b.headers.get('x-request-id'));
  });

  test('asResponse() on a stream shows the headers and an SSE body', TIMEOUT, async () => {
    const res = await client.chat.completions.create({ ...hi(), stream: true }).asResponse();
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.equal(res.headers.get('x-baton-model'), 'demo-small');
    assert.ok(res.headers.get('x-request-id'), 'x-request-id missing');
    const body = await res.text();
    assert.match(body, /^data: /m);
    assert.match(body, /data: \[DONE\]\s*$/);
  });

  test('error responses carry x-request-id too', TIMEOUT, async () => {
    const err = await expectError(
      () => client.chat.completions.create({ ...hi(), model: 'no-such-model' }),
      OpenAI.NotFoundError);
    assert.ok(err.requestID, 'x-request-id missing on the 404');
  });
});
