/**
 * The median of several bench runs, as ratios to a reference target measured
 * in the same run: one run near a bound says little on a shared machine.
 *
 *   node --import tsx bench/median.ts run1.json run2.json run3.json [--peer ws]
 *
 * Per scenario: resobridge ÷ peer for throughput, capacity (per server
 * CPU-second) and p99; KiB per idle connection; for `pacing`, paced ÷ unpaced.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { ScenarioReport } from './report.js';

const { values: flags, positionals: files } = parseArgs({ options: { peer: { type: 'string', default: 'ws' } }, allowPositionals: true });
if (files.length === 0) {
  console.error('Usage: node --import tsx bench/median.ts RUN.json [RUN.json …] [--peer ws]');
  process.exit(2);
}
const runs = files.map((file) => (JSON.parse(readFileSync(file, 'utf8')) as { scenarios: ScenarioReport[] }).scenarios);

const median = (values: number[]) => {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};
const cell = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : '-');

type Figure = 'perSecond' | 'perCpuSecond' | 'p99' | 'rssPerConnectionKiB';
/** `ours ÷ theirs` of one figure in each run. */
function ratios(id: string, ours: string, theirs: string, figure: Figure): number[] {
  return runs.map((scenarios) => {
    const results = scenarios.find((scenario) => scenario.id === id)?.results ?? [];
    const mine = results.find((result) => result.target === ours)?.[figure];
    const peer = results.find((result) => result.target === theirs)?.[figure];
    return mine !== undefined && peer ? mine / peer : Number.NaN;
  });
}
const values = (id: string, target: string, figure: Figure) =>
  runs.map((scenarios) => scenarios.find((scenario) => scenario.id === id)?.results.find((result) => result.target === target)?.[figure] ?? Number.NaN);

const ids = [...new Set(runs.flat().map((scenario) => scenario.id))];
console.log(`median of ${runs.length} runs; ratios are resobridge ÷ ${flags.peer} in the same run (pacing: paced ÷ unpaced)`);
console.log('scenario            throughput   capacity   p99     (each run: throughput / capacity / p99)');
for (const id of ids) {
  if (id === 'idle') {
    const ours = values(id, 'resobridge', 'rssPerConnectionKiB');
    const peer = values(id, flags.peer, 'rssPerConnectionKiB');
    console.log(`idle                KiB/conn ${cell(median(ours), 1)} (${flags.peer} ${cell(median(peer), 1)})   runs: ${ours.map((v) => cell(v, 1)).join(', ')}`);
    continue;
  }
  const [ours, theirs] = id === 'pacing' ? ['resobridge-paced', 'resobridge'] : ['resobridge', flags.peer];
  const columns = (['perSecond', 'perCpuSecond', 'p99'] as const).map((figure) => ratios(id, ours, theirs, figure));
  const each = runs.map((_, run) => columns.map((column) => cell(column[run] ?? Number.NaN)).join('/')).join('  ');
  console.log(`${id.padEnd(20)}${cell(median(columns[0] ?? [])).padStart(9)}×${cell(median(columns[1] ?? [])).padStart(10)}×${cell(median(columns[2] ?? [])).padStart(7)}×   ${each}`);
}
