/** The mapping examples in docs/bridges.md are valid settings and do what the text around them says. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import { Expression, InMapping, OutMapping } from '../src/bridges/mapping.js';
import { BRIDGES_SCHEMA } from '../src/bridges/registry.js';

const doc = readFileSync(new URL('../docs/bridges.md', import.meta.url), 'utf8');
const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');

/** The first bridge of the first YAML block that holds `marker` (a block that is a bare list entry is read as a list). */
function example(marker: string): Record<string, unknown> {
  const block = blocks.find((text) => text.includes(marker));
  assert.ok(block, `docs/bridges.md has a YAML example with ${marker}`);
  const parsed = parse(block.startsWith('bridges:') ? block : `bridges:\n${block}`) as { bridges: Record<string, unknown>[] };
  const bridge = parsed.bridges[0] ?? {};
  assert.equal(BRIDGES_SCHEMA.safeParse([bridge]).error?.issues[0]?.message, undefined, `the ${marker} example is a valid bridge`);
  return bridge;
}

test('docs: the zigbee2mqtt example maps {"state":"ON"} to light|kitchen|on and a key, and light|kitchen|on back to {"state":"ON"}', async () => {
  const bridge = example('name: zigbee') as { subscribe: Record<string, { in: never }>; publish: Record<string, { out: never }> };
  const mapping = new InMapping(bridge.subscribe['zigbee2mqtt/+']?.in as never, 'in');
  const mapped = await mapping.apply({ topic: 'zigbee2mqtt/kitchen', payload: { state: 'ON', brightness: 120, linkquality: 80 } });
  assert.deepEqual(mapped.lines.map((line) => line.text), ['light|kitchen|on']);
  assert.deepEqual(mapped.keys, [['light.kitchen', 'on']]);
  assert.deepEqual(await mapping.apply({ topic: 'zigbee2mqtt/kitchen', payload: { linkquality: 80 } }), { lines: [], keys: [] });
  const out = new OutMapping(bridge.publish.kitchen?.out as never, 'out');
  assert.equal(await out.apply('light|kitchen|on', 'Alice', 'kitchen'), '{"state":"ON"}');
  assert.deepEqual(await new Expression('["light", "kitchen", $exists(payload.brightness) ? payload.brightness : ""]', 'x').evaluate({ payload: {} }), ['light', 'kitchen', '']);
});

test('docs: the Discord and ntfy webhook examples build the bodies the text shows', async () => {
  const discord = new Expression(String(example('name: discord').body), 'body');
  assert.deepEqual({ ...(await discord.evaluate({ type: 'msg', channel: 'announcements', from: 'Alice', text: 'The boss is down' })) as object }, { content: 'Alice: The boss is down' });
  assert.deepEqual({ ...(await discord.evaluate({ type: 'value', ns: 'default', key: 'winner', value: 'Bob' })) as object }, { content: 'The winner is Bob!' });
  const ntfy = new Expression(String(example('ntfy.example.org').body), 'body');
  assert.equal(await ntfy.evaluate({ type: 'msg', channel: 'alerts', from: 'Alice', text: 'hi' }), 'hi');
  assert.equal(await ntfy.evaluate({ type: 'value', ns: 'default', key: 'k', value: 'v' }), undefined);
});
