// The official Anthropic Node SDK (npm @anthropic-ai/sdk), unchanged, against the gateway's Messages API. LlmApp.Tests
// runs this with `node --test`, passing the gateway's /v1 URL and the served model in LLMAPP_BASE_URL and LLMAPP_MODEL,
// and a key in LLMAPP_API_KEY where the gateway has keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';

const model = process.env.LLMAPP_MODEL;
// The SDK adds /v1/messages itself.
const baseURL = process.env.LLMAPP_BASE_URL.replace(/\/v1\/?$/, '');
const client = new Anthropic({ baseURL, apiKey: process.env.LLMAPP_API_KEY ?? 'unused', maxRetries: 0 });
const weather = {
  name: 'get_weather',
  description: 'Current weather for a city',
  input_schema: { type: 'object', properties: { city: { enum: ['Oslo', 'Paris'] } }, required: ['city'] },
};

test('messages.create answers with a message, its stop reason and usage', async () => {
  const message = await client.messages.create({ model, max_tokens: 10, system: 'Be brief.', messages: [{ role: 'user', content: 'Hello' }] });
  assert.equal(message.type, 'message');
  assert.equal(message.role, 'assistant');
  assert.match(message.id, /^msg_/);
  assert.equal(message.content[0].type, 'text');
  assert.ok(message.content[0].text.length > 0);
  assert.equal(message.stop_reason, 'max_tokens');
  assert.equal(message.usage.output_tokens, 10);
});

test('messages.stream gives the text as it comes and the same final message', async () => {
  const stream = client.messages.stream({ model, max_tokens: 12, messages: [{ role: 'user', content: 'Hi' }] });
  let text = '';
  stream.on('text', (piece) => { text += piece; });
  const final = await stream.finalMessage();
  assert.ok(text.length > 0);
  assert.equal(final.content[0].text, text);
  assert.equal(final.stop_reason, 'max_tokens');
  assert.equal(final.usage.output_tokens, 12);
});

test('the raw stream is message_start, blocks, message_delta, message_stop', async () => {
  const events = [];
  for await (const event of await client.messages.create({ model, max_tokens: 5, stream: true, messages: [{ role: 'user', content: 'Hi' }] })) {
    events.push(event.type);
  }
  assert.equal(events[0], 'message_start');
  assert.deepEqual(events.slice(-3), ['content_block_stop', 'message_delta', 'message_stop']);
});

test('messages.countTokens counts the prompt the model reads', async () => {
  const messages = [{ role: 'user', content: 'How many tokens is this?' }];
  const { input_tokens } = await client.messages.countTokens({ model, messages });
  const message = await client.messages.create({ model, max_tokens: 1, messages });
  assert.equal(input_tokens, message.usage.input_tokens + (message.usage.cache_read_input_tokens ?? 0));
});

test('a tool-use round trip: a named tool is one call, its result goes back', async () => {
  const ask = { model, max_tokens: 64, temperature: 0, tools: [weather], tool_choice: { type: 'tool', name: 'get_weather' }, messages: [{ role: 'user', content: 'Weather in Oslo?' }] };
  const first = await client.messages.create(ask);
  assert.equal(first.stop_reason, 'tool_use');
  assert.equal(first.content.length, 1);
  const call = first.content[0];
  assert.equal(call.type, 'tool_use');
  assert.equal(call.name, 'get_weather');
  assert.ok(['Oslo', 'Paris'].includes(call.input.city));
  const answer = await client.messages.create({
    ...ask,
    tool_choice: { type: 'none' },
    messages: [
      ...ask.messages,
      { role: 'assistant', content: [call] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: '15 degrees, sunny' }] },
    ],
  });
  assert.equal(answer.content[0].type, 'text');
});

test('a streamed tool use arrives as input_json_delta and ends in a parsed input', async () => {
  const stream = client.messages.stream({ model, max_tokens: 64, temperature: 0, tools: [weather], tool_choice: { type: 'any', disable_parallel_tool_use: true }, messages: [{ role: 'user', content: 'Weather in Paris?' }] });
  const final = await stream.finalMessage();
  assert.equal(final.stop_reason, 'tool_use');
  assert.equal(final.content.length, 1);
  assert.equal(final.content[0].type, 'tool_use');
  assert.ok(['Oslo', 'Paris'].includes(final.content[0].input.city));
});

test('models.list lists the served model in Anthropic\'s shape', async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  assert.deepEqual(ids, [model]);
});

test('an unknown model is a NotFoundError, Anthropic\'s error object', async () => {
  await assert.rejects(
    client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 4, messages: [{ role: 'user', content: 'Hi' }] }),
    (error) => error instanceof Anthropic.NotFoundError && error.error?.type === 'error' && error.error?.error?.type === 'not_found_error');
});
