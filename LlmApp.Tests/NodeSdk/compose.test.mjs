// The official OpenAI Node SDK, unchanged, against the gateway of the compose deployment. LlmApp.Tests runs this with
// `node --test`, passing the published gateway's base URL, the served model and the key in LLMAPP_BASE_URL, LLMAPP_MODEL
// and LLMAPP_API_KEY.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';

const model = process.env.LLMAPP_MODEL;
const client = new OpenAI({ baseURL: process.env.LLMAPP_BASE_URL, apiKey: process.env.LLMAPP_API_KEY, maxRetries: 0 });
const messages = [{ role: 'user', content: 'Say hello' }];

test('models.list returns the served model', async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  assert.deepEqual(ids, [model]);
});

test('chat.completions.create answers with content, a finish reason and usage', async () => {
  const completion = await client.chat.completions.create({ model, messages, max_tokens: 8, temperature: 0 });
  assert.equal(completion.model, model);
  assert.equal(completion.choices.length, 1);
  assert.ok(completion.choices[0].message.content.length > 0);
  assert.ok(['stop', 'length'].includes(completion.choices[0].finish_reason));
  assert.ok(completion.usage.completion_tokens > 0);
});

test('a streamed chat completion arrives in chunks, ends with a finish reason, and counts usage', async () => {
  const stream = await client.chat.completions.create({
    model, messages, max_tokens: 8, temperature: 0, stream: true, stream_options: { include_usage: true },
  });
  let text = '';
  let finish = null;
  let usage = null;
  for await (const chunk of stream) {
    if (chunk.choices.length > 0) {
      text += chunk.choices[0].delta.content ?? '';
      finish = chunk.choices[0].finish_reason ?? finish;
    }
    if (chunk.usage) usage = chunk.usage;
  }
  assert.ok(text.length > 0);
  assert.ok(['stop', 'length'].includes(finish));
  assert.ok(usage.completion_tokens > 0);
});
