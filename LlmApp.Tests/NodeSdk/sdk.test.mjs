// The official OpenAI Node SDK, unchanged, against the gateway. LlmApp.Tests runs this with `node --test`,
// passing the gateway's base URL and the served model in LLMAPP_BASE_URL and LLMAPP_MODEL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';

const model = process.env.LLMAPP_MODEL;
const embeddingModel = process.env.LLMAPP_EMBEDDING_MODEL;
const client = new OpenAI({ baseURL: process.env.LLMAPP_BASE_URL, apiKey: 'unused', maxRetries: 0 });
const user = (content) => [{ role: 'user', content }];

test('models.list returns the served chat and embedding models', async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  assert.deepEqual(ids, [model, embeddingModel]);
});

test('embeddings.create gives one unit vector per input, as base64 (the SDK default) and as floats alike', async () => {
  const input = ['The cat sat on the mat.', 'Retrieval needs vectors.'];
  const asBase64 = await client.embeddings.create({ model: embeddingModel, input });
  const asFloats = await client.embeddings.create({ model: embeddingModel, input, encoding_format: 'float' });
  assert.equal(asBase64.object, 'list');
  assert.equal(asBase64.data.length, 2);
  assert.deepEqual(asBase64.data.map((d) => d.index), [0, 1]);
  assert.equal(asBase64.data[0].embedding.length, 8);
  // base64 carries the float32s exactly; JSON numbers carry their shortest decimal form.
  asBase64.data.forEach((d, i) => d.embedding.forEach((v, j) => assert.ok(Math.abs(v - asFloats.data[i].embedding[j]) < 1e-6)));
  const norm = Math.hypot(...asFloats.data[0].embedding);
  assert.ok(Math.abs(norm - 1) < 1e-3, `norm ${norm}`);
  assert.ok(asFloats.usage.prompt_tokens > 0);
  assert.equal(asFloats.usage.total_tokens, asFloats.usage.prompt_tokens);
});

test('embeddings.create takes token ids and honours dimensions', async () => {
  const tokens = await client.embeddings.create({ model: embeddingModel, input: [[1, 2, 3], [4, 5]], encoding_format: 'float' });
  assert.equal(tokens.data.length, 2);
  assert.equal(tokens.usage.prompt_tokens, 5);
  const short = await client.embeddings.create({ model: embeddingModel, input: 'shorter', dimensions: 4 });
  assert.equal(short.data[0].embedding.length, 4);
  assert.ok(Math.abs(Math.hypot(...short.data[0].embedding) - 1) < 1e-3);
});

test('an input longer than the embedding server takes is a 400 naming the limit', async () => {
  await assert.rejects(
    client.embeddings.create({ model: embeddingModel, input: 'hello '.repeat(200) }),
    (err) => err.status === 400 && err.param === 'input' && /64 tokens/.test(err.message));
});

test('a non-streaming completion has the OpenAI shape and usage that adds up', async () => {
  const c = await client.chat.completions.create({ model, messages: user('Hello'), max_tokens: 8, temperature: 0 });
  assert.equal(c.object, 'chat.completion');
  assert.equal(c.model, model);
  assert.equal(c.choices[0].message.role, 'assistant');
  assert.ok(['stop', 'length'].includes(c.choices[0].finish_reason));
  assert.equal(c.usage.total_tokens, c.usage.prompt_tokens + c.usage.completion_tokens);
});

test('a stream without include_usage has the role first, a finish reason, and no usage', async () => {
  const stream = await client.chat.completions.create({ model, messages: user('Hello'), max_tokens: 8, temperature: 0, stream: true });
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  assert.equal(chunks[0].choices[0].delta.role, 'assistant');
  assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.model === model));
  assert.ok(chunks.every((c) => c.usage == null));
  assert.equal(chunks.at(-1).choices[0].finish_reason, 'length');
  assert.ok(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('').length > 0);
});

test('a stream with include_usage ends with one usage chunk without choices', async () => {
  const stream = await client.chat.completions.create({
    model, messages: user('Hello'), max_tokens: 5, temperature: 0, stream: true, stream_options: { include_usage: true },
  });
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  const last = chunks.at(-1);
  assert.deepEqual(last.choices, []);
  assert.equal(last.usage.completion_tokens, 5);
  assert.equal(last.usage.total_tokens, last.usage.prompt_tokens + 5);
  assert.ok(chunks.slice(0, -1).every((c) => c.usage == null));
});

test('the same seed at temperature 0 gives the same answer', async () => {
  const ask = () => client.chat.completions.create({ model, messages: user('Tell me a story'), max_tokens: 12, temperature: 0, seed: 42 });
  const [a, b] = [await ask(), await ask()];
  assert.equal(a.choices[0].message.content, b.choices[0].message.content);
});

test('a stop sequence cuts the answer before it', async () => {
  const base = { model, messages: user('Tell me a story'), max_tokens: 24, temperature: 0, seed: 7 };
  const full = (await client.chat.completions.create(base)).choices[0].message.content;
  const stop = full.slice(Math.floor(full.length / 2), Math.floor(full.length / 2) + 3);
  const cut = (await client.chat.completions.create({ ...base, stop: [stop] })).choices[0];
  assert.equal(cut.finish_reason, 'stop');
  assert.equal(cut.message.content, full.slice(0, full.indexOf(stop)));
});

test('json_schema output parses and matches the schema', async () => {
  const c = await client.chat.completions.create({
    model, messages: user('Describe a light'), max_tokens: 64, temperature: 0,
    response_format: {
      type: 'json_schema',
      json_schema: {
        name: 'light', strict: true,
        schema: {
          type: 'object', additionalProperties: false, required: ['on', 'color'],
          properties: { on: { type: 'boolean' }, color: { enum: ['red', 'green', 'blue'] } },
        },
      },
    },
  });
  const value = JSON.parse(c.choices[0].message.content);
  assert.equal(typeof value.on, 'boolean');
  assert.ok(['red', 'green', 'blue'].includes(value.color));
});

test('a forced tool call comes back as tool_calls with valid arguments', async () => {
  const c = await client.chat.completions.create({
    model, messages: user('Weather in Oslo?'), max_tokens: 64, temperature: 0,
    tools: [{
      type: 'function',
      function: {
        name: 'get_weather', description: 'Current weather for a city',
        parameters: { type: 'object', required: ['city'], additionalProperties: false, properties: { city: { enum: ['Oslo', 'Paris'] } } },
      },
    }],
    tool_choice: { type: 'function', function: { name: 'get_weather' } },
    // One call: the tiny random model, free to add calls, would add them until max_tokens.
    parallel_tool_calls: false,
  });
  const choice = c.choices[0];
  assert.equal(choice.finish_reason, 'tool_calls');
  assert.equal(choice.message.tool_calls.length, 1);
  assert.equal(choice.message.content, null);
  assert.equal(choice.message.tool_calls[0].type, 'function');
  assert.equal(choice.message.tool_calls[0].function.name, 'get_weather');
  assert.ok(['Oslo', 'Paris'].includes(JSON.parse(choice.message.tool_calls[0].function.arguments).city));
});

test('errors arrive as the SDK error classes with OpenAI codes', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'gpt-4o', messages: user('hi') }),
    (e) => e instanceof OpenAI.NotFoundError && e.code === 'model_not_found');
  await assert.rejects(
    client.chat.completions.create({ model, messages: user('hi'), temperature: 5 }),
    (e) => e instanceof OpenAI.BadRequestError && e.param === 'temperature' && e.type === 'invalid_request_error');
});

test('an aborted stream ends early and leaves the gateway serving', async () => {
  const controller = new AbortController();
  const stream = await client.chat.completions.create(
    { model, messages: user('Go on forever'), max_tokens: 3000, temperature: 0, stream: true }, { signal: controller.signal });
  let received = 0;
  try {
    // The SDK ends the iteration quietly (or with an AbortError) once the signal fires.
    for await (const _ of stream) { if (++received === 3) controller.abort(); }
  } catch (e) {
    assert.ok(controller.signal.aborted, `unexpected error: ${e}`);
  }
  assert.ok(received < 1000, `the stream went on after the abort (${received} chunks)`);
  const c = await client.chat.completions.create({ model, messages: user('Hello'), max_tokens: 4, temperature: 0 });
  assert.equal(c.usage.completion_tokens, 4);
});
