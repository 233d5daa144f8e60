// The official OpenAI Node SDK's Responses API (client.responses), unchanged, against the gateway. LlmApp.Tests runs
// this with `node --test`, passing the gateway's /v1 URL and the served model in LLMAPP_BASE_URL and LLMAPP_MODEL, and a
// key in LLMAPP_API_KEY where the gateway has keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';

const model = process.env.LLMAPP_MODEL;
const client = new OpenAI({ baseURL: process.env.LLMAPP_BASE_URL, apiKey: process.env.LLMAPP_API_KEY ?? 'unused', maxRetries: 0 });
const weather = {
  type: 'function',
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: { type: 'object', properties: { city: { enum: ['Oslo', 'Paris'] } }, required: ['city'], additionalProperties: false },
  strict: true,
};

test('responses.create answers with output_text, a status and usage', async () => {
  const response = await client.responses.create({ model, input: 'Hello', instructions: 'Be brief.', max_output_tokens: 10, store: false });
  assert.equal(response.object, 'response');
  assert.match(response.id, /^resp_/);
  assert.ok(response.output_text.length > 0);
  // The tiny model runs to the limit: incomplete, and why.
  assert.equal(response.status, 'incomplete');
  assert.equal(response.incomplete_details.reason, 'max_output_tokens');
  assert.equal(response.usage.output_tokens, 10);
  assert.ok(response.usage.input_tokens > 0);
  assert.equal(typeof response.usage.input_tokens_details.cached_tokens, 'number');
});

test('a streamed response sends the Responses events in order and the same text as its deltas', async () => {
  const types = [];
  let text = '';
  let final;
  for await (const event of await client.responses.create({ model, input: [{ role: 'user', content: 'Hi' }], max_output_tokens: 8, stream: true })) {
    types.push(event.type);
    if (event.type === 'response.output_text.delta') text += event.delta;
    if (event.type === 'response.incomplete' || event.type === 'response.completed') final = event.response;
  }
  assert.deepEqual(types.slice(0, 4), ['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added']);
  assert.deepEqual(types.slice(-4), ['response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.incomplete']);
  assert.ok(text.length > 0);
  assert.equal(final.output[0].content[0].text, text);
  assert.equal(final.usage.output_tokens, 8);
});

test('a function tool round trip: a named tool is one call; its output goes back as function_call_output', async () => {
  const input = [{ role: 'user', content: 'Weather in Oslo?' }];
  const first = await client.responses.create({ model, input, tools: [weather], tool_choice: { type: 'function', name: 'get_weather' }, max_output_tokens: 64, temperature: 0 });
  assert.equal(first.status, 'completed');
  // The response repeats the request's tools and tool_choice, as OpenAI's does.
  assert.equal(first.tools[0].name, 'get_weather');
  assert.deepEqual(first.tool_choice, { type: 'function', name: 'get_weather' });
  assert.equal(first.output.length, 1);
  const call = first.output[0];
  assert.equal(call.type, 'function_call');
  assert.equal(call.name, 'get_weather');
  assert.ok(['Oslo', 'Paris'].includes(JSON.parse(call.arguments).city));
  const second = await client.responses.create({
    model,
    tools: [weather],
    tool_choice: 'none',
    max_output_tokens: 16,
    input: [...input, call, { type: 'function_call_output', call_id: call.call_id, output: '15 degrees, sunny' }],
  });
  assert.equal(second.output[0].type, 'message');
  assert.ok(second.output_text.length > 0);
});

test('a streamed function call arrives as function_call_arguments deltas', async () => {
  let args = '';
  let done;
  const stream = await client.responses.create({ model, input: 'Weather in Paris?', tools: [weather], tool_choice: { type: 'function', name: 'get_weather' }, max_output_tokens: 64, temperature: 0, stream: true });
  for await (const event of stream) {
    if (event.type === 'response.function_call_arguments.delta') args += event.delta;
    if (event.type === 'response.function_call_arguments.done') done = event.arguments;
  }
  assert.equal(done, args);
  assert.ok(['Oslo', 'Paris'].includes(JSON.parse(args).city));
});

test('text.format json_schema gives JSON of the schema', async () => {
  const response = await client.responses.create({
    model,
    input: 'A light setting, please.',
    max_output_tokens: 64,
    text: { format: { type: 'json_schema', name: 'light', strict: true, schema: { type: 'object', additionalProperties: false, required: ['on'], properties: { on: { type: 'boolean' } } } } },
  });
  assert.equal(typeof JSON.parse(response.output_text).on, 'boolean');
  assert.equal(response.text.format.type, 'json_schema');
});

test('store: true and previous_response_id are refused naming the parameter; this server keeps no responses', async () => {
  await assert.rejects(client.responses.create({ model, input: 'Hi', store: true }), (e) => e.status === 400 && e.param === 'store');
  await assert.rejects(client.responses.create({ model, input: 'Hi', previous_response_id: 'resp_x' }), (e) => e.status === 400 && e.param === 'previous_response_id');
  await assert.rejects(client.responses.retrieve('resp_x'), (e) => e.status === 404);
});
