// The official OpenAI Node SDK, unchanged, against a gateway that requires API keys. LlmApp.Tests runs this with
// `node --test`, passing the gateway's base URL, the served model, a key it takes and a key limited to one request a
// minute in LLMAPP_BASE_URL, LLMAPP_MODEL, LLMAPP_API_KEY and LLMAPP_LIMITED_KEY.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';

const model = process.env.LLMAPP_MODEL;
const client = (apiKey) => new OpenAI({ baseURL: process.env.LLMAPP_BASE_URL, apiKey, maxRetries: 0 });
const user = (content) => [{ role: 'user', content }];

test('with the key, chat.completions.create answers', async () => {
  const completion = await client(process.env.LLMAPP_API_KEY).chat.completions.create({ model, messages: user('Hello'), max_tokens: 2 });
  assert.equal(completion.model, model);
});

test('with another key, the SDK throws its AuthenticationError, status 401, code invalid_api_key', async () => {
  await assert.rejects(
    client('sk-not-this-one').chat.completions.create({ model, messages: user('Hello'), max_tokens: 2 }),
    (error) => error instanceof OpenAI.AuthenticationError && error.status === 401 && error.code === 'invalid_api_key');
});

test('over the key\'s requests per minute, the SDK throws its RateLimitError, status 429, with retry-after', async () => {
  const limited = client(process.env.LLMAPP_LIMITED_KEY);
  await limited.chat.completions.create({ model, messages: user('Hello'), max_tokens: 1 });
  await assert.rejects(
    limited.chat.completions.create({ model, messages: user('Hello'), max_tokens: 1 }),
    (error) => error instanceof OpenAI.RateLimitError && error.status === 429 && error.code === 'rate_limit_exceeded'
      && Number(error.headers.get('retry-after')) >= 1 && error.headers.get('x-ratelimit-limit-requests') === '1');
});
