import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { test } from 'node:test';
import { generate } from 'selfsigned';
import { ConfigError, createServer } from '../src/index.js';
import { spawnCli, TestClient, waitForOutput } from './helpers.js';

async function certificate(name: string) {
  return generate([{ name: 'commonName', value: name }], {
    keySize: 2048,
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }],
  });
}

/** cert.pem and key.pem in a folder of their own, for `commonName`; `renew` writes a new pair in their place. */
async function certificateFiles(commonName: string) {
  const folder = mkdtempSync(join(tmpdir(), 'resobridge-tls-'));
  const tlsCert = join(folder, 'cert.pem');
  const tlsKey = join(folder, 'key.pem');
  const renew = async (name: string) => {
    const pair = await certificate(name);
    writeFileSync(tlsCert, pair.cert);
    writeFileSync(tlsKey, pair.private);
  };
  await renew(commonName);
  return { tlsCert, tlsKey, renew };
}

function peerCommonName(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(String(socket.getPeerCertificate().subject.CN));
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

test('wss:// with --tls-cert/--tls-key, and a reload that keeps connections up', async (t) => {
  const { tlsCert, tlsKey, renew } = await certificateFiles('first');
  const server = createServer({ port: 0, store: 'memory', logLevel: 'silent', tlsCert, tlsKey });
  const { port } = await server.listen();
  t.after(() => server.close());
  assert.equal(server.secure, true);

  const client = await TestClient.connect(t, `wss://127.0.0.1:${port}/echo`, { rejectUnauthorized: false });
  client.send('over tls');
  assert.equal(await client.next(), 'over tls');
  assert.equal(await peerCommonName(port), 'first');

  await renew('second');
  server.reloadTls();
  assert.equal(await peerCommonName(port), 'second', 'new connections get the renewed certificate');
  client.send('still connected');
  assert.equal(await client.next(), 'still connected', 'the old connection was not dropped');

  const page = await fetch(`http://127.0.0.1:${port}/echo`).catch((error: unknown) => error);
  assert.ok(page instanceof Error, 'plain http is not served on a TLS port');
});

test('TLS settings must come in pairs and name readable files', () => {
  assert.throws(() => createServer({ tlsCert: '/tmp/only-a-cert.pem' }), (error: unknown) => error instanceof ConfigError && /give both --tls-cert and --tls-key/.test(error.message));
  assert.throws(() => createServer({ tlsCert: '/no/cert.pem', tlsKey: '/no/key.pem' }), /Cannot read the TLS certificate \/no\/cert\.pem: no such file/);
});

test('serve re-reads the certificate on SIGHUP and keeps running', { skip: process.platform === 'win32' ? 'no SIGHUP on Windows' : false }, async (t) => {
  const { tlsCert, tlsKey, renew } = await certificateFiles('before-hup');
  const child = spawnCli(['serve', '--port', '0', '--tls-cert', tlsCert, '--tls-key', tlsKey]);
  t.after(() => child.kill('SIGKILL'));
  const { match } = await waitForOutput(child, /wss:\/\/localhost:(\d+)\/echo/);
  const port = Number(match[1]);
  assert.equal(await peerCommonName(port), 'before-hup');
  await renew('after-hup');
  child.kill('SIGHUP');
  await waitForOutput(child, /TLS certificate reloaded/);
  assert.equal(await peerCommonName(port), 'after-hup');
  assert.equal(child.exitCode, null, 'still running');
});
