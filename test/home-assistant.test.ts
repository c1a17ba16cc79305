/**
 * The home-assistant bridge end to end: a world-like client on /channel/ha,
 * the bridge, and a double of Home Assistant's WebSocket API that follows the
 * documented protocol (test/doubles/home-assistant.ts).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import WebSocket from 'ws';
import { attributeText, entityMatcher, parseCommand, websocketUrl } from '../src/bridges/home-assistant-lines.js';
import { HA_VERSION, HomeAssistantDouble } from './doubles/home-assistant.js';
import { capturedLogger, startServer, TestClient, WAIT_MS } from './helpers.js';

const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.double-token-7c1e';

const HOME = {
  'light.kitchen': { state: 'off', attributes: { brightness: null, friendly_name: 'Kitchen', rgb_color: [255, 128, 0] } },
  'light.hall': { state: 'on', attributes: { brightness: 200, friendly_name: 'Hall | upstairs' } },
  'switch.fan': { state: 'off', attributes: {} },
  'sensor.outside_temperature': { state: '21.5', attributes: { unit_of_measurement: '°C' } },
};

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < WAIT_MS / 20 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.ok(check(), `${what}: not reached within ${WAIT_MS} ms`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function double(t: TestContext, entities: Parameters<typeof HomeAssistantDouble.start>[1] = HOME) {
  const ha = await HomeAssistantDouble.start(TOKEN, entities);
  t.after(() => ha.close());
  return ha;
}

type Extra = Record<string, unknown>;

async function bridged(t: TestContext, ha: HomeAssistantDouble, extra: Extra = {}, logger = capturedLogger()) {
  const spec = { type: 'home-assistant' as const, url: ha.url, token: TOKEN, entities: ['light.*', 'switch.fan'], ...extra };
  const started = await startServer(t, { bridges: [spec as never], logger: logger.logger });
  const status = () => started.server.bridges()[0];
  return { ...started, status, logger };
}

/** Messages from `client` until `count` have arrived (in order). */
async function take(client: TestClient, count: number): Promise<string[]> {
  const got: string[] = [];
  while (got.length < count) got.push(await client.next());
  return got;
}

test('URLs: the browser address becomes the WebSocket API address', () => {
  assert.equal(websocketUrl('http://homeassistant.local:8123'), 'ws://homeassistant.local:8123/api/websocket');
  assert.equal(websocketUrl('https://ha.example.org/'), 'wss://ha.example.org/api/websocket');
  assert.equal(websocketUrl('https://example.org/ha/'), 'wss://example.org/ha/api/websocket');
  assert.equal(websocketUrl('ws://127.0.0.1:8123/api/websocket'), 'ws://127.0.0.1:8123/api/websocket');
  assert.equal(websocketUrl('ws://127.0.0.1:8123'), 'ws://127.0.0.1:8123/api/websocket');
});

test('entities, attribute texts and world lines', () => {
  const follows = entityMatcher(['light.*', 'sensor.*_temperature', 'switch.fan']);
  assert.ok(follows('light.kitchen') && follows('sensor.outside_temperature') && follows('switch.fan'));
  assert.ok(!follows('switch.fan2') && !follows('sensor.outside_humidity') && !follows('lightxkitchen'));
  assert.ok(entityMatcher(['*'])('anything.at_all'));
  assert.equal(attributeText(120), '120');
  assert.equal(attributeText(0.0000001), '0.0000001');
  assert.equal(attributeText([255, 128, 0]), '[255;128;0]');
  assert.equal(attributeText([0.3, 0.5]), '[0.3;0.5]');
  assert.equal(attributeText(null), '');
  assert.equal(attributeText(true), 'true');
  assert.equal(attributeText({ a: 1 }), '{"a":1}');
  assert.deepEqual(parseCommand('call|light.kitchen|turn_on|{"brightness":120}'), { entityId: 'light.kitchen', domain: 'light', service: 'turn_on', data: { brightness: 120 } });
  assert.deepEqual(parseCommand('call|light.kitchen|homeassistant.toggle'), { entityId: 'light.kitchen', domain: 'homeassistant', service: 'toggle', data: undefined });
  assert.deepEqual(parseCommand('toggle|switch.fan'), { entityId: 'switch.fan', domain: 'switch', service: 'toggle', data: undefined });
  assert.deepEqual(parseCommand('call|input_text.note|set_value|{"value":"a|b"}'), { entityId: 'input_text.note', domain: 'input_text', service: 'set_value', data: { value: 'a|b' } });
  assert.equal(parseCommand('ha|light.kitchen|on'), undefined, 'the bridge\'s own lines are not commands');
  assert.match((parseCommand('on|Light Kitchen') as { problem: string }).problem, /not an entity id/);
  assert.match((parseCommand('call|light.kitchen|turn_on|{brightness:1}') as { problem: string }).problem, /not JSON/);
  assert.match((parseCommand('call|light.kitchen|turn_on|[1]') as { problem: string }).problem, /JSON object/);
  // A service of another domain is not an action on the entity: homeassistant.stop, script.*, shell_command.* ignore the target.
  for (const service of ['homeassistant.stop', 'homeassistant.restart', 'script.open_garage', 'shell_command.wipe', 'lock.unlock']) {
    assert.match((parseCommand(`call|light.kitchen|${service}`) as { problem?: string }).problem ?? '', /only light\.<service> or homeassistant\.turn_on/, service);
  }
  assert.deepEqual(parseCommand('call|light.kitchen|homeassistant.update_entity'), { entityId: 'light.kitchen', domain: 'homeassistant', service: 'update_entity', data: undefined });
  assert.deepEqual(parseCommand('call|light.kitchen|light.turn_on'), { entityId: 'light.kitchen', domain: 'light', service: 'turn_on', data: undefined });
  // Home Assistant reads targets from the service data too (it merges `target` into it): a world
  // could reach every entity of an area, a device or a label, past the bridge's entities: list.
  for (const key of ['area_id', 'device_id', 'floor_id', 'label_id', 'entity_id']) {
    const parsed = parseCommand(`call|light.kitchen|turn_on|{"${key}":"all"}`) as { problem?: string };
    assert.match(parsed.problem ?? '', new RegExp(`${key}.*target`), `${key} in the service data is refused`);
  }
});

test('the double refuses a repeated or lower id as HA does (id_reuse), and answers pings', async (t) => {
  const ha = await double(t);
  const socket = new WebSocket(ha.url);
  t.after(() => socket.terminate());
  const received: Record<string, unknown>[] = [];
  socket.on('message', (data) => received.push(JSON.parse(String(data)) as Record<string, unknown>));
  await until(() => received.length === 1, 'auth_required');
  assert.deepEqual(received[0], { type: 'auth_required', ha_version: HA_VERSION });
  socket.send(JSON.stringify({ type: 'auth', access_token: TOKEN }));
  await until(() => received.length === 2, 'auth_ok');
  socket.send(JSON.stringify({ id: 5, type: 'ping' }));
  socket.send(JSON.stringify({ id: 5, type: 'ping' }));
  socket.send(JSON.stringify({ id: 4, type: 'get_states' }));
  await until(() => received.length === 5, 'three answers');
  assert.deepEqual(received.slice(1), [
    { type: 'auth_ok', ha_version: HA_VERSION },
    { id: 5, type: 'pong' },
    { id: 5, type: 'result', success: false, error: { code: 'id_reuse', message: 'Identifier values have to increase.' } },
    { id: 4, type: 'result', success: false, error: { code: 'id_reuse', message: 'Identifier values have to increase.' } },
  ]);
  assert.equal(ha.idReuses, 2);
});

test('a world gets the current states on joining, follows changes, switches a light and hears it back; only configured entities pass', async (t) => {
  const ha = await double(t);
  const { ws, http, status, logger } = await bridged(t, ha);
  await until(() => status()?.state === 'connected', 'connected');
  assert.equal(status()?.detail, `Home Assistant ${HA_VERSION}, 3 entities`);

  const world = await TestClient.connect(t, ws('/channel/ha'));
  assert.deepEqual((await take(world, 3)).sort(), ['ha|light.hall|on', 'ha|light.kitchen|off', 'ha|switch.fan|off']);

  ha.setState('sensor.outside_temperature', '22');
  ha.setState('switch.fan', 'on');
  assert.equal(await world.next(), 'ha|switch.fan|on', 'the sensor is not among the entities');

  world.send('call|light.kitchen|turn_on|{"brightness":120}');
  assert.equal(await world.next(), 'ha|light.kitchen|on');
  world.send('toggle|light.kitchen');
  assert.equal(await world.next(), 'ha|light.kitchen|off');
  world.send('off|switch.fan');
  assert.equal(await world.next(), 'ha|switch.fan|off');
  assert.deepEqual(ha.calls.at(0), { id: ha.calls.at(0)?.id, type: 'call_service', domain: 'light', service: 'turn_on', target: { entity_id: 'light.kitchen' }, service_data: { brightness: 120 } });
  assert.deepEqual(ha.calls.map((call) => `${String(call.domain)}.${String(call.service)}`), ['light.turn_on', 'light.toggle', 'switch.turn_off']);

  // A second world joining later is greeted with the states as they are now; the first one gets no duplicates.
  const late = await TestClient.connect(t, ws('/channel/ha'));
  assert.deepEqual((await take(late, 3)).sort(), ['ha|light.hall|on', 'ha|light.kitchen|off', 'ha|switch.fan|off']);
  ha.setState('light.hall', 'off');
  assert.equal(await world.next(), 'ha|light.hall|off');
  assert.equal(await late.next(), 'ha|light.hall|off');
  assert.deepEqual(world.pending, []);
  // In command mode: greeted the same way after join, as msg lines; commands through pub.
  const commander = await TestClient.connect(t, ws('/api'));
  assert.equal(await commander.ask('join|ha'), 'ok|join|ha');
  assert.deepEqual((await take(commander, 3)).sort(), ['msg|ha|home-assistant|ha%7Clight.hall%7Coff', 'msg|ha|home-assistant|ha%7Clight.kitchen%7Coff', 'msg|ha|home-assistant|ha%7Cswitch.fan%7Coff']);
  assert.equal(await commander.ask('pub|ha|on%7Cswitch.fan'), 'ok|pub|ha');
  assert.equal(await commander.next(), 'msg|ha|home-assistant|ha%7Cswitch.fan%7Con');
  assert.equal(ha.idReuses + ha.malformed, 0, 'every id was new, every message well formed');
  const health = await (await fetch(http('/healthz'))).text();
  assert.match(health, /"type":"home-assistant","state":"connected"/);
  assert.ok(!health.includes(TOKEN) && !logger.text().includes(TOKEN), 'the token is not in /healthz nor the log');
});

test('the status names entities Home Assistant does not have, and those over maxEntities, which cannot be switched', async (t) => {
  const ha = await double(t);
  const { ws, status } = await bridged(t, ha, { entities: ['light.*', 'switch.fan', 'switch.fan2'], maxEntities: 2 });
  await until(() => status()?.state === 'connected', 'connected');
  assert.equal(status()?.detail, `Home Assistant ${HA_VERSION}, 2 entities (not in Home Assistant: switch.fan2; 1 more ignored: over maxEntities 2)`);
  const world = await TestClient.connect(t, ws('/channel/ha'));
  const greeted = await take(world, 2);
  const left = ['light.hall', 'light.kitchen', 'switch.fan'].find((entity) => !greeted.some((line) => line.startsWith(`ha|${entity}|`)));
  world.send(`on|${left}`);
  assert.equal(await world.next(), `error|ha|${left}|${left} is over this bridge's maxEntities (2); raise it or narrow entities:`);
  world.send('on|switch.fan2');
  assert.equal(await world.next(), 'error|ha|switch.fan2|Home Assistant has no entity switch.fan2');
  assert.equal(ha.calls.length, 0);
});

test('an address that is not Home Assistant: retrying, saying so', async (t) => {
  const web = createHttpServer((_request, response) => response.writeHead(404).end('Not Found'));
  web.listen(0, '127.0.0.1');
  await once(web, 'listening');
  t.after(() => web.close());
  const { port } = web.address() as AddressInfo;
  const { server } = await startServer(t, { bridges: [{ type: 'home-assistant', url: `http://127.0.0.1:${port}`, token: TOKEN, entities: ['light.kitchen'] } as never] });
  await until(() => server.bridges()[0]?.state === 'retrying', 'retrying');
  assert.equal(server.bridges()[0]?.detail, `ws://127.0.0.1:${port}/api/websocket answered HTTP 404, not a WebSocket; is this Home Assistant's address? (its WebSocket API is at /api/websocket); reconnecting in 1 s`);
});

test('attributes: one attr| line each, sent when they change, and mirrored into keys with ns', async (t) => {
  const ha = await double(t);
  const { ws, status } = await bridged(t, ha, { entities: ['light.kitchen', 'light.hall'], attributes: ['brightness', 'rgb_color', 'friendly_name'], ns: 'home' });
  await until(() => status()?.state === 'connected', 'connected');
  const world = await TestClient.connect(t, ws('/channel/ha'));
  assert.deepEqual((await take(world, 6)).sort(), [
    'attr|light.hall|brightness|200',
    'attr|light.hall|friendly_name|Hall %7C upstairs',
    'attr|light.kitchen|friendly_name|Kitchen',
    'attr|light.kitchen|rgb_color|[255;128;0]',
    'ha|light.hall|on',
    'ha|light.kitchen|off',
  ]);
  world.send('call|light.kitchen|turn_on|{"brightness":120}');
  assert.deepEqual(await take(world, 2), ['ha|light.kitchen|on', 'attr|light.kitchen|brightness|120'], 'the state first, then only what changed');
  ha.setState('light.kitchen', 'on', { ...ha.state('light.kitchen')?.attributes, brightness: 64 });
  assert.equal(await world.next(), 'attr|light.kitchen|brightness|64', 'an attribute alone: no state line');
  world.send('off|light.kitchen');
  assert.deepEqual(await take(world, 2), ['ha|light.kitchen|off', 'attr|light.kitchen|brightness|']);

  const reader = await TestClient.connect(t, ws('/api?ns=home'));
  assert.equal(await reader.ask('get|light.kitchen'), 'value|light.kitchen|off');
  assert.equal(await reader.ask('get|light.hall.brightness'), 'value|light.hall.brightness|200');
  assert.equal(await reader.ask('get|light.kitchen.rgb_color'), 'value|light.kitchen.rgb_color|[255;128;0]');
  assert.equal(await reader.ask('get|light.kitchen.brightness'), 'missing|light.kitchen.brightness', 'an attribute that became null is deleted');
  ha.setState('light.hall', 'on', { ...ha.state('light.hall')?.attributes, friendly_name: 'x'.repeat(5_000) });
  assert.equal(await world.next(), `attr|light.hall|friendly_name|${'x'.repeat(4_096)}…`, 'cut at 4,096 characters');
  ha.setState('light.hall', null);
  assert.deepEqual(await take(world, 3), ['ha|light.hall|', 'attr|light.hall|brightness|', 'attr|light.hall|friendly_name|'], 'a removed entity: empty state and attributes');
  await until(() => world.pending.length === 0, 'quiet');
  assert.equal(await reader.ask('get|light.hall'), 'missing|light.hall');
});

test("errors: HA's own message for an unknown service or bad data; the bridge's for an entity it does not follow or HA does not have", async (t) => {
  const ha = await double(t);
  const { ws, status } = await bridged(t, ha, { entities: ['light.*'], confirm: true });
  await until(() => status()?.state === 'connected', 'connected');
  const world = await TestClient.connect(t, ws('/channel/ha'));
  await take(world, 2);
  world.send('call|light.kitchen|fly');
  assert.equal(await world.next(), 'error|ha|light.kitchen|Service light.fly not found.');
  world.send('call|light.kitchen|turn_on|{"brightness":"bright"}');
  assert.equal(await world.next(), "error|ha|light.kitchen|expected int for dictionary value @ data['brightness']");
  world.send('on|switch.fan');
  assert.match(await world.next(), /^error\|ha\|switch\.fan\|switch\.fan is not among this bridge's entities \(light\.\*\); add it/);
  world.send('on|light.garage');
  assert.equal(await world.next(), 'error|ha|light.garage|Home Assistant has no entity light.garage');
  world.send('call|light.kitchen|turn_on|{oops}');
  assert.match(await world.next(), /^error\|ha\|light\.kitchen\|the service data is not JSON/);
  const calls = ha.calls.length;
  assert.equal(calls, 2, 'only the two calls HA had to judge reached it');
  world.send('on|light.kitchen');
  assert.deepEqual(await take(world, 2), ['ha|light.kitchen|on', 'ok|ha|light.kitchen|light.turn_on'], 'confirm: ok after the change');
  world.send('call|light.hall|homeassistant.toggle');
  assert.equal(await world.next(), 'error|ha|light.hall|Service homeassistant.toggle not found.', 'the double knows only a few domains');
  world.send('ha|light.kitchen|off');
  world.send('some chatter');
  ha.setState('light.hall', 'off');
  assert.equal(await world.next(), 'ha|light.hall|off', 'lines that are not commands are left alone');
  assert.equal(ha.calls.length, calls + 2);
});

test('a wrong token: failed with a status that says what to do, one login attempt and no retries; the token is never shown', async (t) => {
  const ha = await double(t);
  ha.token = 'the-right-one';
  const logger = capturedLogger();
  const { http, status } = await bridged(t, ha, {}, logger);
  await until(() => status()?.state === 'failed', 'failed');
  assert.match(status()?.detail ?? '', /^Home Assistant refused the token \(auth_invalid: "Invalid access token or password"\): the token is wrong or was revoked\. Make a new one in Home Assistant \(your profile → Security → Long-lived access tokens → Create token\)/);
  // Longer than the first two retry delays would be: still the one attempt.
  await sleep(3_500);
  assert.equal(ha.connections, 1);
  assert.equal(ha.refusedLogins, 1);
  assert.equal(status()?.state, 'failed');
  const health = await (await fetch(http('/healthz'))).text();
  assert.match(health, /"state":"failed"/);
  assert.ok(!health.includes(TOKEN) && !logger.text().includes(TOKEN), 'the token is not in /healthz nor the log');
  assert.equal(logger.find('Home Assistant refused the token (auth_invalid: "Invalid access token or password"): the token is wrong or was revoked. Make a new one in Home Assistant (your profile → Security → Long-lived access tokens → Create token), put it where token: points, and restart; not retrying (with ip_ban_enabled, Home Assistant bans an address after repeated failed logins)').length, 1);
});

test('a token from an environment variable; a revoked token stops the bridge after HA closes the connection', async (t) => {
  const ha = await double(t);
  process.env.RESOBRIDGE_TEST_HA_TOKEN = TOKEN;
  t.after(() => delete process.env.RESOBRIDGE_TEST_HA_TOKEN);
  const { status, logger } = await bridged(t, ha, { token: { env: 'RESOBRIDGE_TEST_HA_TOKEN' } });
  await until(() => status()?.state === 'connected', 'connected');
  ha.revokeToken();
  await until(() => status()?.state === 'failed', 'failed after the revocation');
  assert.equal(ha.connections, 2, 'one reconnect, refused, and no more');
  assert.ok(!logger.text().includes(TOKEN));
});

test('HA goes away: retrying with the reason, then reconnected, subscribed again and states read again', async (t) => {
  const ha = await double(t);
  const { ws, status } = await bridged(t, ha);
  await until(() => status()?.state === 'connected', 'connected');
  const world = await TestClient.connect(t, ws('/channel/ha'));
  await take(world, 3);
  assert.equal(ha.subscribes, 1);

  ha.down = true;
  ha.dropConnections();
  await until(() => status()?.state === 'retrying', 'retrying');
  assert.match(status()?.detail ?? '', /^Home Assistant closed the connection \(code 1001\); reconnecting in 1 s$/);
  world.send('on|light.kitchen');
  assert.match(await world.next(), /^error\|ha\|light\.kitchen\|Home Assistant is not connected \(.*\); try again when it is$/);
  await until(() => /code 1006/.test(status()?.detail ?? ''), 'an attempt while down');
  assert.equal(status()?.detail, 'Home Assistant closed the connection (code 1006); reconnecting in 2 s', 'the delay grows');
  // Changed while the bridge was away: the re-read brings it.
  ha.setState('light.hall', 'off');
  ha.down = false;
  await until(() => status()?.state === 'connected', 'connected again');
  assert.equal(await world.next(), 'ha|light.hall|off');
  assert.equal(ha.subscribes, 2);
  assert.equal(ha.stateReads, 2);
  ha.setState('switch.fan', 'on');
  assert.equal(await world.next(), 'ha|switch.fan|on', 'events flow on the new subscription');
  assert.equal(ha.idReuses, 0, 'ids start over per connection, increasing');
});

test('HA stops answering pings: the connection counts as dead and is made again', { timeout: 60_000 }, async (t) => {
  const ha = await double(t);
  const { status } = await bridged(t, ha, { pingSeconds: 1 });
  await until(() => status()?.state === 'connected', 'connected');
  await until(() => ha.pings >= 2, 'two pings answered');
  assert.equal(ha.connections, 1);
  ha.answerPings = false;
  await until(() => ha.connections === 2, 'a new connection');
  ha.answerPings = true;
  await until(() => status()?.state === 'connected' && ha.authenticatedSessions === 1, 'connected again, the old socket gone');
  assert.equal(ha.idReuses, 0);
});

test('HA unreachable at start: retrying, saying why', async (t) => {
  const ha = await double(t);
  const port = ha.port;
  await ha.close();
  const url = `http://127.0.0.1:${port}`;
  const { server } = await startServer(t, { bridges: [{ type: 'home-assistant', url, token: TOKEN, entities: ['light.kitchen'] } as never] });
  const status = () => server.bridges()[0];
  await until(() => status()?.state === 'retrying', 'retrying');
  assert.match(status()?.detail ?? '', new RegExp(`^cannot reach ws://127\\.0\\.0\\.1:${port}/api/websocket \\(ECONNREFUSED\\); reconnecting in \\d s$`));
});

test('config: bad specs name the bridge, the key and what is allowed', async () => {
  const { createServer } = await import('../src/index.js');
  const bad = (spec: Extra) => () => createServer({ port: 0, logLevel: 'silent', store: 'memory', bridges: [{ type: 'home-assistant', token: 'x', entities: ['light.kitchen'], ...spec } as never] });
  assert.throws(bad({ entities: [] }), /list the entities to follow/);
  assert.throws(bad({ entities: ['Light.Kitchen'] }), /an entity is an id such as light\.kitchen/);
  assert.throws(bad({ url: 'homeassistant.local:8123' }), /url is Home Assistant's address/);
  assert.throws(bad({ token: { env: 'RESOBRIDGE_TEST_NO_SUCH_VARIABLE' } }), /bridge "home-assistant": token: the environment variable RESOBRIDGE_TEST_NO_SUCH_VARIABLE is not set/);
  assert.throws(bad({ colour: 'red' }), /colour/);
});
