/**
 * The `obs` bridge against a real OBS Studio (test/obs.ts starts it headless),
 * with a world-like client in /channel/obs; and its world lines on their own.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OBS_HANDSHAKE_TIMEOUT_MS } from '../src/bridges/obs.js';
import { readWorldLine } from '../src/bridges/obs-lines.js';
import { escapeField, parseLine } from '../src/protocol/line.js';
import type { ResobridgeServer } from '../src/index.js';
import { obsDouble } from './doubles/obs-websocket.js';
import { silentTcp } from './fixtures.js';
import { capturedLogger, startServer, TestClient } from './helpers.js';
import { RealObs, skipObs } from './obs.js';

/** Waits (bounded) until the first bridge's state is `state`; returns its detail. */
async function bridgeState(server: ResobridgeServer, state: string, waitMs = 30_000): Promise<string> {
  const deadline = Date.now() + waitMs;
  while (server.bridges()[0]?.state !== state && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  const status = server.bridges()[0];
  assert.equal(status?.state, state, `bridge state (detail: ${status?.detail})`);
  return status?.detail ?? '';
}

/** Reads the world's messages until it heard all of `wanted`, in any order (at most 50; each wait is bounded by TestClient); returns the matches in `wanted`'s order. */
async function hear(world: TestClient, ...wanted: (string | RegExp)[]): Promise<string[]> {
  const found: (string | undefined)[] = wanted.map(() => undefined);
  const seen: string[] = [];
  for (let i = 0; i < 50 && found.includes(undefined); i++) {
    const message = await world.next().catch((error: Error) => {
      throw new Error(`${error.message} while waiting for ${wanted.map(String).join(', ')}; heard: ${JSON.stringify(seen)}`);
    });
    seen.push(message);
    const at = wanted.findIndex((want, j) => found[j] === undefined && (typeof want === 'string' ? message === want : want.test(message)));
    if (at >= 0) found[at] = message;
  }
  if (found.includes(undefined)) throw new Error(`never heard all of ${wanted.map(String).join(', ')}; heard: ${JSON.stringify(seen)}`);
  return found as string[];
}

/** The one message matching `wanted`. */
const hearOne = async (world: TestClient, wanted: string | RegExp): Promise<string> => (await hear(world, wanted))[0] ?? '';

test('world lines become the obs-websocket requests the docs list', () => {
  const request = (text: string) => {
    const ask = readWorldLine(text);
    assert.equal(ask?.kind, 'request', `${text} → ${JSON.stringify(ask)}`);
    return ask.kind === 'request' ? { ...ask.request, id: ask.id } : undefined;
  };
  assert.deepEqual(request('scene|Intro'), { requestType: 'SetCurrentProgramScene', requestData: { sceneName: 'Intro' }, id: undefined });
  assert.deepEqual(request('scene#7|A%7CB'), { requestType: 'SetCurrentProgramScene', requestData: { sceneName: 'A|B' }, id: '7' });
  assert.deepEqual(request('mute|Mic'), { requestType: 'SetInputMute', requestData: { inputName: 'Mic', inputMuted: true }, id: undefined });
  assert.deepEqual(request('mute|Mic|False'), { requestType: 'SetInputMute', requestData: { inputName: 'Mic', inputMuted: false }, id: undefined }, "C#'s bool text");
  assert.deepEqual(request('unmute|Mic'), { requestType: 'SetInputMute', requestData: { inputName: 'Mic', inputMuted: false }, id: undefined });
  assert.deepEqual(request('mute|Mic|toggle'), { requestType: 'ToggleInputMute', requestData: { inputName: 'Mic' }, id: undefined });
  assert.equal(request('stream|start')?.requestType, 'StartStream');
  assert.equal(request('stream|toggle')?.requestType, 'ToggleStream');
  assert.equal(request('record|pause')?.requestType, 'PauseRecord');
  assert.deepEqual(request('text|Title|a|b 100%'), { requestType: 'SetInputSettings', requestData: { inputName: 'Title', inputSettings: { text: 'a|b 100%' } }, id: undefined }, 'an unescaped | in the text is kept');
  assert.deepEqual(request('obs|GetSceneList'), { requestType: 'GetSceneList', requestData: undefined, id: undefined });
  assert.deepEqual(request('obs|SetInputVolume|{"inputName":"Mic","inputVolumeDb":-6}'), { requestType: 'SetInputVolume', requestData: { inputName: 'Mic', inputVolumeDb: -6 }, id: undefined });
  assert.deepEqual(readWorldLine('state'), { kind: 'state', tag: 'state', id: undefined });
  for (const [text, why] of [
    ['scene', /send scene\|<scene name>/],
    ['mute|Mic|maybe', /true, false or toggle/],
    ['stream|go', /send stream\|start, stop, toggle/],
    ['text|Title', /send text\|<input name>\|<text>/],
    ['obs|Get Scene', /send obs\|<RequestType>/],
    ['obs|GetInputSettings|{inputName', /not JSON/],
    ['obs|GetInputSettings|[1]', /a JSON object/],
    ['dance|now', /unknown line "dance"/],
    // Requests that read the stream key, send the stream elsewhere, or write files where a world says: no world may.
    ['obs|GetStreamServiceSettings', /not sent to OBS from a world/],
    ['obs|SetStreamServiceSettings|{"streamServiceType":"rtmp_custom","streamServiceSettings":{"server":"rtmp://evil"}}', /not sent to OBS from a world/],
    ['obs|SaveSourceScreenshot|{"sourceName":"Cam","imageFormat":"png","imageFilePath":"/home/me/.bashrc"}', /not sent to OBS from a world/],
    ['obs|SetRecordDirectory|{"recordDirectory":"/"}', /not sent to OBS from a world/],
    ['obs|SetProfileParameter|{"parameterCategory":"SimpleOutput","parameterName":"FilePath","parameterValue":"/"}', /not sent to OBS from a world/],
    ['obs|getstreamservicesettings', /not sent to OBS from a world/],
  ] as const) {
    const ask = readWorldLine(text);
    assert.equal(ask?.kind, 'mistake', text);
    assert.match(ask.kind === 'mistake' ? ask.why : '', why, text);
  }
  for (const news of ['program|Intro', 'muted|Mic|true', 'streaming|started|true', 'ok|obs|StartStream', 'error|obs|x|y']) assert.equal(readWorldLine(news), undefined, `${news} is OBS's news, not a request`);
});

test('obs bridge config: defaults; a bad url names the key and does not repeat the password; a missing env var is named', async (t) => {
  const { server } = await startServer(t, { bridges: [{ type: 'obs', url: 'ws://127.0.0.1:1' }] });
  assert.equal(server.bridges()[0]?.name, 'obs');
  await assert.rejects(startServer(t, { bridges: [{ type: 'obs', url: 'http://127.0.0.1:4455', password: 'hunter2' }] }), (error: Error) => {
    assert.match(error.message, /\[0\]\.url: url is obs-websocket's address/);
    assert.ok(!error.message.includes('hunter2'), `the password is not repeated: ${error.message}`);
    return true;
  });
  await assert.rejects(startServer(t, { bridges: [{ type: 'obs', password: { env: 'RESOBRIDGE_TEST_UNSET' } }] }), /bridge "obs": password: the environment variable RESOBRIDGE_TEST_UNSET is not set/);
});

test('OBS kicking the bridge (close 4011) stops it without reconnecting', async (t) => {
  const double = await obsDouble(t, { code: 4011, reason: 'You have been disconnected by the server.' });
  const { server } = await startServer(t, { bridges: [{ type: 'obs', url: double.url }] });
  const detail = await bridgeState(server, 'failed');
  assert.match(detail, /close 4011.*Not reconnecting; restart resobridge/);
  await new Promise((resolve) => setTimeout(resolve, 2_500)); // past the first two retry delays (1 s, 2 s)
  assert.equal(double.connections(), 1, 'one connection, no retries');
});

test('a peer that accepts and says nothing is dropped after the handshake timeout, and retried', { timeout: 60_000 }, async (t) => {
  const port = await silentTcp(t);
  const { server } = await startServer(t, { bridges: [{ type: 'obs', url: `ws://127.0.0.1:${port}` }] });
  const detail = await bridgeState(server, 'retrying', OBS_HANDSHAKE_TIMEOUT_MS + 20_000);
  assert.match(detail, /^ws:\/\/127\.0\.0\.1:\d+ accepted the connection but did not complete obs-websocket's handshake within 10 s: is that OBS's WebSocket port\?; trying again in 1 s$/);
});

test('a real OBS Studio', { skip: skipObs, timeout: 300_000 }, async (t) => {
  const obs = await RealObs.start(t);
  process.env.RESOBRIDGE_TEST_OBS_PASSWORD = obs.password;
  t.after(() => delete process.env.RESOBRIDGE_TEST_OBS_PASSWORD);
  const captured = capturedLogger();
  const { server, ws, http } = await startServer(t, {
    logger: captured.logger,
    bridges: [{ type: 'obs', url: obs.url, password: { env: 'RESOBRIDGE_TEST_OBS_PASSWORD' } }],
  });

  await t.test('the world switches scenes, mutes, sets text, and hears OBS back', async (t) => {
    const detail = await bridgeState(server, 'connected', 60_000);
    assert.match(detail, new RegExp(`^OBS \\d+\\.\\d+\\.\\d+, obs-websocket 5\\.\\d+\\.\\d+ at ws://127\\.0\\.0\\.1:${obs.port}, scene Scene$`));
    const world = await TestClient.connect(t, ws('/channel/obs'));

    world.send('obs|CreateScene|{"sceneName":"Second | scene"}');
    await hear(world, /^ok\|obs\|CreateScene(\||$)/);
    world.send(`scene#1|${escapeField('Second | scene')}`);
    await hear(world, 'ok#1|obs|SetCurrentProgramScene', 'program|Second %7C scene');
    assert.match(server.bridges()[0]?.detail ?? '', /scene Second \| scene$/);

    world.send('scene#2|No such scene');
    assert.equal(await hearOne(world, /^error#2\|/), 'error#2|obs|SetCurrentProgramScene|No source was found by the name of `No such scene`.');

    world.send('obs|CreateInput|{"sceneName":"Scene","inputName":"Mic","inputKind":"pulse_input_capture","inputSettings":{}}');
    await hear(world, /^ok\|obs\|CreateInput\|\{"sceneItemId":\d+\}$/);
    world.send('mute|Mic|true');
    await hear(world, 'ok|obs|SetInputMute', 'muted|Mic|true');
    world.send('mute|Mic|toggle');
    await hear(world, 'ok|obs|ToggleInputMute|{"inputMuted":false}', 'muted|Mic|false');

    world.send('obs|CreateInput|{"sceneName":"Scene","inputName":"Title","inputKind":"text_ft2_source_v2","inputSettings":{"text":"old"}}');
    await hear(world, /^ok\|obs\|CreateInput\|/);
    const text = 'Hello | world, 100% 😀';
    world.send(`text|Title|${escapeField(text)}`);
    await hear(world, 'ok|obs|SetInputSettings');
    world.send('obs|GetInputSettings|{"inputName":"Title"}');
    const [, , type, json = ''] = parseLine(await hearOne(world, /^ok\|obs\|GetInputSettings\|/));
    assert.equal(type, 'GetInputSettings');
    assert.equal((JSON.parse(json) as { inputSettings: { text: string } }).inputSettings.text, text);
    world.send('mute|Title');
    assert.equal(await hearOne(world, /^error\|/), 'error|obs|SetInputMute|The specified input does not support audio.');

    world.send('record|start');
    await hear(world, 'ok|obs|StartRecord', 'recording|started|true');
    world.send('record|stop');
    await hear(world, /^ok\|obs\|StopRecord\|\{"outputPath":".*"\}$/, 'recording|stopped|false');
    // No streaming service is set up: OBS starts the stream, and it stops again.
    world.send('stream|start');
    await hear(world, 'ok|obs|StartStream', 'streaming|stopped|false');

    world.send('state');
    await hear(world, 'program|Second %7C scene', 'streaming|stopped|false', 'recording|stopped|false');

    world.send('mute|Mic|maybe');
    assert.equal(await hearOne(world, /^error\|/), 'error|obs|mute|send mute%7C<input>%7Ctrue, false or toggle (not "maybe")');
  });

  await t.test('a wrong password: failed, says how to fix it, and OBS sees one attempt', async (t) => {
    const before = obs.connections();
    const wrongLog = capturedLogger();
    const wrong = await startServer(t, { logger: wrongLog.logger, bridges: [{ type: 'obs', url: obs.url, password: 'not the password' }] });
    const detail = await bridgeState(wrong.server, 'failed');
    assert.match(detail, /OBS refused the password \(close 4009: Authentication failed\.\)\. Set this bridge's password to the one in OBS → Tools → WebSocket Server Settings/);
    const world = await TestClient.connect(t, wrong.ws('/channel/obs'));
    world.send('scene|Scene');
    assert.match(await hearOne(world, /^error\|/), /^error\|obs\|SetCurrentProgramScene\|OBS is not connected \(OBS refused the password/);
    await new Promise((resolve) => setTimeout(resolve, 3_500)); // past the first retry delays (1 s, 2 s), had there been retries
    assert.equal(obs.connections() - before, 1, 'OBS saw one attempt');
    assert.equal(wrong.server.bridges()[0]?.state, 'failed');
    assert.equal(wrongLog.find('obs bridge stopped: ' + detail).length, 1, 'logged once, as an error');
    assert.ok(!wrongLog.text().includes('not the password'), 'a password written in the config is not logged either');

    const none = await startServer(t, { bridges: [{ type: 'obs', url: obs.url }] });
    assert.match(await bridgeState(none.server, 'failed'), /OBS asks for a password and this bridge has none \(close 4009.*\)\. Add password: \{ env: OBS_PASSWORD \}/);
  });

  await t.test('the password appears in no log and not in /healthz', async () => {
    const health = await (await fetch(http('/healthz'))).text();
    assert.match(health, /"type":"obs"/);
    assert.ok(!health.includes(obs.password), '/healthz');
    assert.ok(captured.find('obs bridge connected').length >= 1);
    assert.ok(!captured.text().includes(obs.password), 'logs');
  });

  await t.test('requests in a burst act in order; a slow world gets the latest of each state (coalesced), and every reply', async (t) => {
    // 10 a second: the 8 replies and the news fit in the 2 s a channel message may wait (past it, it is dropped).
    const slow = await startServer(t, { outboundRate: 10, outboundBurst: 1, bridges: [{ type: 'obs', url: obs.url, password: obs.password }] });
    await bridgeState(slow.server, 'connected', 60_000);
    const world = await TestClient.connect(t, slow.ws('/channel/obs'));
    world.send('mute|Mic|false');
    await hear(world, 'ok|obs|SetInputMute');
    const toggles = 8;
    for (let i = 0; i < toggles; i++) world.send(`mute#${i}|Mic|toggle`);
    const replies: string[] = [];
    const news: string[] = [];
    while (replies.length < toggles || news.at(-1) !== 'muted|Mic|false') {
      const message = await world.next().catch((error: Error) => {
        throw new Error(`${error.message}; heard ${JSON.stringify({ replies, news })}`);
      });
      if (message.startsWith('ok#')) replies.push(message);
      else if (message.startsWith('muted|Mic|')) news.push(message);
      else assert.fail(`unexpected ${message}`);
    }
    // One request at a time, in order: OBS, left to itself, runs a burst side by side and acts out of order.
    const expected = Array.from({ length: toggles }, (_, i) => `ok#${i}|obs|ToggleInputMute|{"inputMuted":${i % 2 === 0}}`);
    assert.deepEqual(replies, expected, 'every reply, in order, each toggle acting on the one before');
    assert.ok(news.length < toggles, `the ${toggles} mute changes were coalesced to ${news.length} lines`);
  });

  await t.test('OBS goes away: retrying, requests refused; back: connected and working', async (t) => {
    const world = await TestClient.connect(t, ws('/channel/obs'));
    await obs.stop();
    assert.match(await bridgeState(server, 'retrying'), /^OBS at ws:\/\/127\.0\.0\.1:\d+ (closed the connection|cannot be reached)/);
    assert.match(await bridgeState(server, 'retrying'), /trying again in \d+ s$/);
    world.send('scene|Scene');
    assert.match(await hearOne(world, /^error\|/), /^error\|obs\|SetCurrentProgramScene\|OBS is not connected \(OBS at .* trying again in \d+ s\)$/);
    await obs.launch();
    await bridgeState(server, 'connected', 90_000);
    await hear(world, /^program\|/); // the state, published on connect
    world.send('scene#3|Scene');
    await hear(world, 'ok#3|obs|SetCurrentProgramScene');
    assert.ok(!captured.text().includes(obs.password), 'logs');
  });
});
