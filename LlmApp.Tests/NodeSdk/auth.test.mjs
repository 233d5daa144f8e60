// The official OpenAI Node SDK, unchanged, against a gateway that requires API keys. LlmApp.Tests runs this with
// `node --test`, passing the gateway's base URL, the served model and a key it takes in LLMAPP_BASE_URL,
// LLMAPP_MODEL and LLMAPP_API_KEY.
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
