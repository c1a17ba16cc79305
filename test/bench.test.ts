/** The benchmark must keep working: a very short run, end to end, against the minimal ws peer. No timing is asserted. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

test('npm run bench -- --quick runs end to end and writes its results', { timeout: 180_000 }, async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'resobridge-bench-')), 'latest.json');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/run.ts', '--quick', '--only', 'echo-64,fanout-100-64', '--targets', 'resobridge,ws', '--duration', '0.3', '--out', out],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (chunk) => (output += String(chunk)));
  child.stderr.on('data', (chunk) => (output += String(chunk)));
  const [code] = await once(child, 'exit');
  assert.equal(code, 0, output);
  assert.match(output, /echo, 64 B: 50 connections × 10 in flight/);
  assert.match(output, /Goals \(same run, ratios of resobridge to each peer\)/);

  const results = JSON.parse(readFileSync(out, 'utf8')) as {
    machine: { node: string; cores: number };
    scenarios: { id: string; results: { target: string; perSecond: number; p99: number }[] }[];
    goals: { scenario: string; goal: string; ratio: number }[];
  };
  assert.equal(results.machine.node, process.version);
  assert.deepEqual(results.scenarios.map((s) => s.id), ['echo-64', 'fanout-100-64']);
  for (const scenario of results.scenarios) {
    assert.deepEqual(scenario.results.map((r) => r.target), ['resobridge', 'ws']);
    for (const result of scenario.results) assert.ok(result.perSecond > 0, `${scenario.id} ${result.target} moved no messages`);
  }
  assert.ok(results.goals.some((goal) => goal.goal.includes('minimal ws') && goal.ratio > 0));
});
