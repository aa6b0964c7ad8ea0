// End-to-end tests of Baton's HTTPS listener (server.tls) with the official `openai` npm client.
// Run by tests/e2e/run.sh, which starts a second gateway with the same providers and models as
// chat.test.mjs plus server.tls (a throwaway CA and a certificate for 127.0.0.1), and exports:
//
//   BATON_TLS_URL        https://127.0.0.1:<port>/v1
//   BATON_TLS_CA         the CA certificate (PEM)
//   NODE_EXTRA_CA_CERTS  the same file, so that Node's fetch (used by the SDK) trusts it
//
// Only node:test and node:assert; no other test framework.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import tls from 'node:tls';
import OpenAI from 'openai';

const BASE_URL = process.env.BATON_TLS_URL;
const CA_FILE = process.env.BATON_TLS_CA;
const TIMEOUT = { timeout: 15_000 };

let client;
let url;

before(() => {
  assert.ok(BASE_URL, 'BATON_TLS_URL must be set (run the suite via tests/e2e/run.sh)');
  assert.ok(CA_FILE, 'BATON_TLS_CA must be set (run the suite via tests/e2e/run.sh)');
  assert.equal(process.env.NODE_EXTRA_CA_CERTS, CA_FILE,
    'NODE_EXTRA_CA_CERTS must name the test CA (run the suite via tests/e2e/run.sh)');
  url = new URL(BASE_URL);
  client = new OpenAI({ baseURL: BASE_URL, apiKey: 'test', maxRetries: 0, timeout: 10_000 });
});

const hi = () => ({ model: 'demo-small', messages: [{ role: 'user', content: 'hi' }] });

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

// A raw TLS connection; resolves with the socket once the handshake is done.
function tlsConnect(options) {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: url.hostname, port: Number(url.port), ...options }, () =>
      resolve(socket));
    socket.once('error', reject);
  });
}

describe('chat completions over https', () => {
  test('non-streaming completion', TIMEOUT, async () => {
    const r = await client.chat.completions.create(hi());
    assert.equal(r.object, 'chat.completion');
    assert.equal(r.choices[0].message.role, 'assistant');
    assert.ok(r.choices[0].message.content.length > 0);
    assert.equal(r.usage.completion_tokens, 12);
  });

  test('streaming completion equals the non-streaming content', TIMEOUT, async () => {
    const full = await client.chat.completions.create(hi());
    const stream = await client.chat.completions.create({
      ...hi(), stream: true, stream_options: { include_usage: true },
    });
    const { chunks, content } = await collect(stream);
    assert.ok(chunks.length >= 2, `only ${chunks.length} chunk(s)`);
    for (const c of chunks) assert.equal(c.object, 'chat.completion.chunk');
    assert.equal(content, full.choices[0].message.content);
    assert.deepEqual(chunks.at(-1).usage, full.usage);
  });

  test('concurrent requests on TLS connections all succeed', TIMEOUT, async () => {
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) =>
      i % 2 === 0
        ? client.chat.completions.create(hi())
        : client.chat.completions.create({ ...hi(), stream: true }).then(collect)));
    for (const [i, r] of results.entries()) {
      if (i % 2 === 0) {
        assert.equal(r.usage.completion_tokens, 12);
      } else {
        assert.ok(r.content.length > 0);
      }
    }
  });

  test('a client that leaves mid-stream does not break the gateway', TIMEOUT, async () => {
    const stream = await client.chat.completions.create({ ...hi(), stream: true });
    let n = 0;
    for await (const _chunk of stream) {
      if (++n === 2) break;  // aborts the request: the TLS connection is closed mid-stream
    }
    assert.equal(n, 2);
    const r = await client.chat.completions.create(hi());
    assert.equal(r.usage.completion_tokens, 12);
  });

  test('models list', TIMEOUT, async () => {
    const ids = [];
    for await (const m of client.models.list()) ids.push(m.id);
    assert.ok(ids.includes('demo-small'), `models: ${ids.join(', ')}`);
  });
});

describe('the TLS listener', () => {
  test('serves the test certificate over TLS 1.2 or 1.3', TIMEOUT, async () => {
    const socket = await tlsConnect({ ca: readFileSync(CA_FILE) });
    try {
      assert.ok(['TLSv1.2', 'TLSv1.3'].includes(socket.getProtocol()), socket.getProtocol());
      assert.equal(socket.getPeerCertificate().subject.CN, 'localhost');
      assert.equal(socket.authorized, true);
    } finally {
      socket.end();
    }
  });

  test('a client that does not trust the CA refuses the certificate', TIMEOUT, async () => {
    // An explicit `ca` replaces the default store (and NODE_EXTRA_CA_CERTS).
    await assert.rejects(tlsConnect({ ca: tls.rootCertificates }),
      (e) => /certificate|issuer/i.test(`${e.code} ${e.message}`));
    await assert.rejects(new Promise((resolve, reject) => {
      https.get(`${BASE_URL}/models`, { ca: tls.rootCertificates }, resolve).on('error', reject);
    }));
  });

  test('TLS 1.1 is refused by the server', TIMEOUT, async () => {
    // The client side is allowed to offer TLS 1.0/1.1 (security level 0): the refusal is the
    // server's protocol_version alert.
    await assert.rejects(
      tlsConnect({ ca: readFileSync(CA_FILE), minVersion: 'TLSv1', maxVersion: 'TLSv1.1',
                   ciphers: 'DEFAULT:@SECLEVEL=0' }),
      (e) => /protocol.version/i.test(`${e.code} ${e.message}`));
  });

  test('plain http:// to the TLS port gets a 400 that says to use https', TIMEOUT, async () => {
    const plain = new URL(BASE_URL);
    plain.protocol = 'http:';
    const res = await fetch(`${plain}/models`);
    assert.equal(res.status, 400);
    const body = await res.json();
    assert.match(body.error.message, /https:\/\//);
    // ... and the listener keeps serving https.
    const r = await client.chat.completions.create(hi());
    assert.equal(r.object, 'chat.completion');
  });
});
