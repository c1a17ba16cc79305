/** The start on a network address that the README, serve --help, the banner and the refusal advise: it works as written. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { waitForOutput } from './helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Runs a command line as a user would type it in the project folder (a shell, npm and all), in its own process group. */
function shell(t: TestContext, line: string) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('RESOBRIDGE_')));
  const child = spawn(line, { shell: true, cwd: ROOT, detached: true, env: { ...env, RESOBRIDGE_STORE: 'memory' } });
  t.after(() => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // the whole group has ended already
    }
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += String(chunk)));
  return { child, stderr: () => stderr };
}

test('the documented network start (npm start -- --port 9000 --host 0.0.0.0) prints two commands that each start as written', { timeout: 300_000 }, async (t) => {
  const refused = shell(t, 'npm start -- --port 9000 --host 0.0.0.0');
  const [code] = (await once(refused.child, 'exit')) as [number];
  assert.equal(code, 2);
  const text = refused.stderr();
  assert.match(text, /^resobridge: Not starting: on 0\.0\.0\.0 other machines can reach this server/m);
  const commands = [...text.matchAll(/^ {4}(npm .*)$/gm)].map((match) => match[1] ?? '');
  assert.deepEqual(commands, [
    'npm start -- --port 9000 --host 0.0.0.0 --allow-anonymous',
    'npm run token -- --save resobridge.yaml && npm start -- --port 9000 --host 0.0.0.0 --config resobridge.yaml',
  ]);
  // The README and docs/security.md advise exactly these.
  for (const doc of ['README.md', 'docs/security.md']) {
    for (const command of commands) assert.ok(readFileSync(join(ROOT, doc), 'utf8').includes(command), `${doc} shows: ${command}`);
  }
  // Each as written, with a free port instead of 9000 and the config file in a scratch folder.
  const file = join(mkdtempSync(join(tmpdir(), 'resobridge-network-')), 'resobridge.yaml');
  for (const command of commands) {
    const started = shell(t, command.replaceAll('--port 9000', '--port 0').replaceAll('resobridge.yaml', file));
    const { match } = await waitForOutput(started.child, /ws:\/\/localhost:(\d+)\/echo/).catch((error: Error) => {
      throw new Error(`${command}\n${error.message}\n${started.stderr()}`);
    });
    const exited = once(started.child, 'exit');
    process.kill(-(started.child.pid ?? 0), 'SIGTERM');
    await exited;
    assert.ok(Number(match[1]) > 0, command);
  }
  assert.match(readFileSync(file, 'utf8'), /^tokens:\n {2}- name: my-world\n {4}sha256: [0-9a-f]{64}\n/);
});
