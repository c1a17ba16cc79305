/**
 * `npm run bench`: resobridge against the servers people would otherwise use,
 * measured side by side in one run on one load generator. Prints a table with
 * ratios and writes bench/results/latest.json. See docs/performance.md.
 *
 *   npm run bench                       full run (a few minutes)
 *   npm run bench -- --quick            short run (under a minute)
 *   npm run bench -- --only echo-64,idle --targets resobridge,ws
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { checkGoals, formatGoals, formatScenario, type ScenarioReport } from './report.js';
import { scenarios, type Timing } from './scenarios.js';
import { allTargets } from './targets.js';

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    targets: { type: 'string' },
    duration: { type: 'string' },
    out: { type: 'string', default: fileURLToPath(new URL('./results/latest.json', import.meta.url)) },
    help: { type: 'boolean', default: false },
  },
});

if (flags.help) {
  console.log(`npm run bench [-- options]
  --quick              short run (under a minute): fewer scenarios, shorter runs
  --only <ids>         scenarios to run, comma-separated: ${scenarios.map((s) => s.id).join(', ')}
  --targets <names>    servers to measure, comma-separated: ${allTargets.map((t) => t.name).join(', ')}
  --duration <s>       seconds per measurement (default 5, quick 1.5)
  --out <file>         where to write the JSON results (default bench/results/latest.json)`);
  process.exit(0);
}

const durationMs = flags.duration ? Number(flags.duration) * 1000 : flags.quick ? 1_500 : 5_000;
const timing: Timing = {
  durationMs,
  warmupMs: Math.min(1_000, durationMs / 3),
  idleConnections: flags.quick ? 1_000 : 10_000,
  stormConnections: flags.quick ? 500 : 8_000,
};
const onlyIds = flags.only?.split(',').map((id) => id.trim());
const unknown = onlyIds?.filter((id) => !scenarios.some((s) => s.id === id)) ?? [];
if (unknown.length > 0) {
  console.error(`Unknown scenario ${unknown.join(', ')}. Scenarios: ${scenarios.map((s) => s.id).join(', ')}`);
  process.exit(2);
}
const chosen = scenarios.filter((s) => (onlyIds ? onlyIds.includes(s.id) : !flags.quick || s.quick));
const targetNames = flags.targets?.split(',').map((name) => name.trim());
const targets = allTargets.filter((target) => !targetNames || targetNames.includes(target.name));
const available = targets.filter((target) => {
  const missing = target.missing();
  if (missing) console.log(`Skipping ${target.label}: not installed here; ${missing}.`);
  return !missing;
});

const reports: ScenarioReport[] = [];
const started = Date.now();
for (const scenario of chosen) {
  const report: ScenarioReport = { id: scenario.id, title: scenario.title, unit: scenario.unit, results: [] };
  for (const target of available.filter((t) => scenario.applies(t) && (!t.onlyIn || t.onlyIn.includes(scenario.id)))) {
    process.stdout.write(`  ${scenario.id} · ${target.label} …\r`);
    const running = await target.start(scenario.startOptions);
    try {
      report.results.push({ target: target.name, label: target.label, ...(await scenario.measure(target, running, timing)) });
    } finally {
      await running.stop();
    }
  }
  reports.push(report);
  process.stdout.write(`${formatScenario(report)}\n`);
}

const goals = checkGoals(reports);
process.stdout.write(formatGoals(goals));
const results = {
  date: new Date().toISOString(),
  quick: flags.quick,
  durationMs,
  totalSeconds: Math.round((Date.now() - started) / 1000),
  machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, platform: process.platform },
  scenarios: reports,
  goals,
};
mkdirSync(dirname(flags.out), { recursive: true });
writeFileSync(flags.out, `${JSON.stringify(results, null, 2)}\n`);
console.log(`\nResults written to ${flags.out} (${results.totalSeconds} s).`);
