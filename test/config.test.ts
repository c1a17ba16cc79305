import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, createServer, defaults, loadConfig, resolveConfig } from '../src/index.js';

function tempFile(name: string, content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'resobridge-')), name);
  writeFileSync(path, content);
  return path;
}

test('defaults: 127.0.0.1:8778, 64 KiB messages, 20 s pings, 3 missed pongs, 250 ms linger', () => {
  const config = defaults();
  assert.equal(config.host, '127.0.0.1');
  assert.equal(config.port, 8778);
  assert.equal(config.maxMessageBytes, 65536);
  assert.equal(config.pingIntervalMs, 20000);
  assert.equal(config.maxMissedPongs, 3);
  assert.equal(config.closeLingerMs, 250);
});

test('precedence: flags > env > file > defaults', () => {
  const file = tempFile('c.yaml', 'port: 1111\nhost: 0.0.0.0\nmaxHistory: 7\n');
  const config = loadConfig({
    file,
    env: { RESOBRIDGE_PORT: '2222', RESOBRIDGE_HOST: '::1', PATH: '/bin' },
    flags: { port: '3333' },
  });
  assert.equal(config.port, 3333);
  assert.equal(config.host, '::1');
  assert.equal(config.maxHistory, 7);
  assert.equal(config.pingIntervalMs, 20000);
});

test('a JSON config file works, and numbers may be written as text', () => {
  const file = tempFile('c.json', '{"port": "4444", "logLevel": "warn"}');
  const config = loadConfig({ file });
  assert.equal(config.port, 4444);
  assert.equal(config.logLevel, 'warn');
});

test('errors name the bad key, where it came from, and what is allowed', () => {
  const cases: [Parameters<typeof loadConfig>[0], RegExp][] = [
    [{ flags: { port: '99999' } }, /--port must be a whole number from 0 to 65535 \(got "99999"\)/],
    [{ env: { RESOBRIDGE_LOG_LEVEL: 'loud' } }, /RESOBRIDGE_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent/],
    [{ env: { RESOBRIDGE_PROT: '1' } }, /Unknown environment variable RESOBRIDGE_PROT\. Did you mean "RESOBRIDGE_PORT"\?/],
    [{ file: tempFile('bad.yaml', 'prot: 1\n') }, /Unknown setting "prot" in bad\.yaml\. Did you mean "port"\? Known settings: host, port/],
    [{ file: tempFile('bad.yaml', 'pingIntervalMs: 90000\n') }, /pingIntervalMs in bad\.yaml must be a whole number from 50 to 55000/],
    [{ file: tempFile('bad.yaml', 'port: [1\n') }, /is not valid YAML/],
    [{ file: tempFile('bad.json', '{"port": }') }, /is not valid JSON/],
    [{ file: tempFile('list.yaml', '- 1\n') }, /must hold settings as "key: value" lines/],
    [{ file: '/no/such/file.yaml' }, /Cannot read config file \/no\/such\/file\.yaml: no such file/],
  ];
  for (const [sources, message] of cases) {
    assert.throws(() => loadConfig(sources), (error: unknown) => error instanceof ConfigError && message.test(error.message));
  }
});

test('the library checks options the same way', () => {
  assert.throws(() => resolveConfig({ port: -1 }), /option "port" must be a whole number from 0 to 65535 \(got -1\)/);
  assert.throws(() => createServer({ closeLingerMs: 1.5 }), /option "closeLingerMs" must be a whole number/);
  assert.throws(() => resolveConfig({ nope: 1 } as never), /Unknown setting "nope" in options/);
});
