/**
 * The published package works on its own: packed from a copy of the project (so whatever
 * was built here before does not count, and the tests reading dist/ are not disturbed),
 * installed into an empty prefix as `npm i -g` would, then run from there.
 * Slow by nature (npm installs the dependencies and compiles better-sqlite3): so it is not in
 * test:unit (whose files each get 120 s) but in `npm run test:package`, which `npm test` runs last.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { waitForOutput } from '../helpers.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Runs a command to its end; fails the test with its output if it fails. */
async function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }) {
  const child = spawn(command, args, { ...options, shell: process.platform === 'win32' });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += String(chunk)));
  child.stderr.on('data', (chunk) => (stderr += String(chunk)));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

test('npm pack + npm i -g: the installed resobridge serves the dashboard, runs doctor and --help', { timeout: 1_800_000 }, async (t) => {
  const scratch = mkdtempSync(join(tmpdir(), 'resobridge-package-'));
  t.after(() => rmSync(scratch, { recursive: true, force: true }));

  // A copy of the project as a fresh clone has it (tracked and new files, nothing ignored), with no dist/.
  const clone = join(scratch, 'clone');
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' });
  for (const file of files.split('\0').filter(Boolean)) {
    if (existsSync(join(ROOT, file))) cpSync(join(ROOT, file), join(clone, file));
  }
  symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'), 'junction');
  assert.equal(existsSync(join(clone, 'dist')), false);

  const packed = await run('npm', ['pack', '--json', '--pack-destination', scratch], { cwd: clone });
  assert.equal(packed.code, 0, packed.stderr);
  const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[];
  assert.ok(info);
  const shipped = info.files.map((file) => file.path);
  for (const needed of ['LICENSE', 'README.md', 'dist/cli/main.js', 'dist/index.js', 'dist/index.d.ts', 'dist/web/index.html', 'docs/security.md', 'docs/configuration.md']) {
    assert.ok(shipped.includes(needed), `${needed} is not in the package`);
  }
  assert.deepEqual(shipped.filter((path) => path.endsWith('.map') || path.includes('tsbuildinfo')), [], 'no source maps (src/ is not shipped), no build state');

  // After that build, `npm run build` (run before npm start, doctor, client, token) does only what is needed.
  const built = (path: string) => statSync(join(clone, 'dist', path)).mtimeMs;
  const build = async () => assert.equal((await run('node', ['scripts/build.js'], { cwd: clone })).code, 0);
  const before = { cli: built('cli/main.js'), page: built('web/index.html') };
  await build();
  assert.deepEqual({ cli: built('cli/main.js'), page: built('web/index.html') }, before, 'nothing changed: nothing is written');
  appendFileSync(join(clone, 'src', 'version.ts'), '// changed\n');
  await build();
  assert.match(readFileSync(join(clone, 'dist', 'version.js'), 'utf8'), /\/\/ changed/, 'a changed source is compiled');
  assert.equal(built('web/index.html'), before.page, 'the page is not rebuilt when web/ did not change');

  const prefix = join(scratch, 'prefix');
  const installed = await run(
    'npm',
    ['install', '--global', '--prefix', prefix, join(scratch, info.filename), '--no-audit', '--no-fund', '--prefer-offline', '--allow-scripts=better-sqlite3,bufferutil'],
    { cwd: scratch },
  );
  assert.equal(installed.code, 0, installed.stderr);
  assert.doesNotMatch(installed.stderr, /install-scripts/, 'no warning about install scripts');

  // Run it from an empty folder, found on the PATH as after a global install.
  const home = join(scratch, 'somewhere');
  mkdirSync(home);
  const bin = process.platform === 'win32' ? prefix : join(prefix, 'bin');
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('RESOBRIDGE_') && !name.startsWith('npm_')));
  const env = { ...clean, PATH: `${bin}${delimiter}${process.env.PATH ?? ''}` };

  const help = await run('resobridge', ['--help'], { cwd: home, env });
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /serve[\s\S]*doctor[\s\S]*client[\s\S]*token/);

  const server = spawn('resobridge', ['serve', '--port', '0'], { cwd: home, env: { ...env, RESOBRIDGE_LOG_FORMAT: 'pretty' } });
  t.after(() => server.kill('SIGKILL'));
  const { output, match } = await waitForOutput(server, /Dashboard: http:\/\/localhost:(\d+)\//);
  // Advice in the form that works for an installed copy.
  assert.match(output, /^ {2}resobridge serve --port 0 --host 0\.0\.0\.0 --allow-anonymous$/m);
  const port = match[1];
  const page = await fetch(`http://127.0.0.1:${port}/`, { headers: { Accept: 'text/html' } });
  assert.equal(page.status, 200);
  const html = await page.text();
  const script = /src="(\/dashboard\/assets\/[^"]+\.js)"/.exec(html)?.[1];
  assert.ok(script, `the dashboard page loads its script: ${html}`);
  assert.equal((await fetch(`http://127.0.0.1:${port}${script}`)).status, 200);

  const doctor = await run('resobridge', ['doctor', `ws://127.0.0.1:${port}/echo`], { cwd: home, env });
  assert.equal(doctor.code, 0, doctor.stdout + doctor.stderr);
  assert.match(doctor.stdout, /✓ Round trip/);

  const refused = await run('resobridge', ['serve', '--port', '0', '--host', '0.0.0.0'], { cwd: home, env });
  assert.equal(refused.code, 2);
  const docs = /More in (.+security\.md)\./.exec(refused.stderr)?.[1] ?? '';
  assert.ok(existsSync(docs), `the refusal points at the shipped docs: ${refused.stderr}`);
});

test('npm install has no install script left unreviewed (npm 11 would warn a newcomer about it)', async (t) => {
  const pending = await run('npm', ['approve-scripts', '--allow-scripts-pending'], { cwd: ROOT });
  if (pending.code !== 0 && /Unknown command/i.test(pending.stderr)) {
    t.skip(`this npm has no allowScripts (npm 11 has): ${pending.stderr.trim().split('\n')[0]}`);
    return;
  }
  assert.equal(pending.code, 0, pending.stderr);
  assert.match(pending.stdout, /No packages with unreviewed install scripts/);
});
