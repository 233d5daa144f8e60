// The official OpenAI Node SDK, unchanged, against an answer that the backend cuts mid-stream. LlmApp.Tests runs this
// with `node --test`, passing the gateway in LLMAPP_BASE_URL and LLMAPP_MODEL; its backend ends every answer to the
// prompt below with llama-server's own mid-answer error (LlmApp.Tests/Infrastructure/MidAnswerErrorProxy.cs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';

const model = process.env.LLMAPP_MODEL;
const client = new OpenAI({ baseURL: process.env.LLMAPP_BASE_URL, apiKey: 'unused', maxRetries: 0 });
const request = {
  model, messages: [{ role: 'user', content: 'Write a story about a lighthouse.' }], max_tokens: 200, temperature: 1.0,
};

test('a stream cut by the backend makes the SDK throw, after no finish reason', async () => {
  const stream = await client.chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } });
  const finishes = [];
  await assert.rejects(
    (async () => { for await (const chunk of stream) finishes.push(...chunk.choices.map((c) => c.finish_reason).filter(Boolean)); })(),
    (e) => e instanceof OpenAI.APIError && /Content-only format/.test(e.message));
  assert.deepEqual(finishes, []);
});

test('a single answer cut by the backend is a 502 the SDK throws', async () => {
  await assert.rejects(
    client.chat.completions.create(request),
    (e) => e instanceof OpenAI.APIError && e.status === 502 && e.code === 'backend_error' && /Content-only format/.test(e.message));
});
