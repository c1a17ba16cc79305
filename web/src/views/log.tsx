import { useMemo, useState } from 'preact/hooks';
import type { LogEntry } from '../../../src/dashboard/wire.js';
import type { Feed } from '../feed.js';
import { clock, count } from '../format.js';
import { useFeed } from '../use-feed.js';

const KIND_LABELS: Record<LogEntry['kind'], string> = { in: 'in', out: 'sent', channel: 'channel', server: 'server' };

/** Most entries drawn at once: the newest that match (the buffer itself holds hello.logLimit). */
const SHOWN = 500;

interface Filters {
  endpoint: string;
  channel: string;
  conn: string;
  text: string;
}

export function Log({ feed }: { feed: Feed }) {
  useFeed(feed);
  const [filters, setFilters] = useState<Filters>({ endpoint: '', channel: '', conn: '', text: '' });
  const [paused, setPaused] = useState<LogEntry[] | undefined>();
  const entries = paused ?? feed.log;
  const endpoints = useMemo(() => [...new Set(feed.log.map((entry) => entry.endpoint).filter(Boolean))] as string[], [feed.log]);
  const matching = useMemo(() => entries.filter((entry) => matches(entry, filters)), [entries, filters]);
  const shown = matching.slice(-SHOWN).reverse();
  const set = (key: keyof Filters) => (event: { currentTarget: HTMLInputElement | HTMLSelectElement }) =>
    setFilters({ ...filters, [key]: event.currentTarget.value });
  const waiting = paused ? feed.log.filter((entry) => entry.seq > (paused.at(-1)?.seq ?? 0)).length : 0;
  return (
    <section class="card">
      <div class="toolbar wrap">
        <select aria-label="Endpoint" value={filters.endpoint} onChange={set('endpoint')}>
          <option value="">all endpoints</option>
          {endpoints.map((endpoint) => (
            <option value={endpoint} key={endpoint}>
              {endpoint}
            </option>
          ))}
        </select>
        <input aria-label="Channel filter" placeholder="channel" value={filters.channel} onInput={set('channel')} class="narrow" />
        <input aria-label="Connection filter" placeholder="connection" value={filters.conn} onInput={set('conn')} class="narrow" />
        <input type="search" aria-label="Search the log" placeholder="text" value={filters.text} onInput={set('text')} />
        <button type="button" onClick={() => setPaused(paused ? undefined : feed.log)}>
          {paused ? `Resume${waiting ? ` (${count(waiting)} new)` : ''}` : 'Pause'}
        </button>
        <button type="button" class="secondary" onClick={() => feed.clearLog()}>
          Clear
        </button>
      </div>
      <p class="muted small">
        {count(matching.length)} of {count(entries.length)} entries
        {matching.length > SHOWN && `, newest ${SHOWN} shown`}; the page keeps the last {count(feed.hello?.logLimit ?? 0)}.
        {feed.logSkipped > 0 && ` ${count(feed.logSkipped)} more came too fast to show.`}
      </p>
      <ol class="log" aria-label="Message log">
        {shown.map((entry) => (
          <li key={entry.seq} class={entry.kind}>
            <span class="muted">{clock(entry.time)}</span>
            <span class={`kind ${entry.kind}`}>{KIND_LABELS[entry.kind]}</span>
            <span class="where">
              {entry.channel && <span class="tag">#{entry.channel}</span>}
              {entry.endpoint && !entry.channel && <span class="tag">{entry.endpoint}</span>}
              {entry.from && <strong>{entry.from}</strong>}
              {entry.conn && <span class="muted small">{entry.conn}</span>}
            </span>
            <code>{entry.text}</code>
          </li>
        ))}
      </ol>
      {entries.length === 0 && <p class="muted empty">Messages appear here as clients send them.</p>}
    </section>
  );
}

function matches(entry: LogEntry, filters: Filters): boolean {
  const has = (field: string | undefined, wanted: string) => !wanted || (field ?? '').toLowerCase().includes(wanted.toLowerCase());
  return (
    (!filters.endpoint || entry.endpoint === filters.endpoint) &&
    has(entry.channel, filters.channel) &&
    (!filters.conn || has(entry.conn, filters.conn) || has(entry.from, filters.conn)) &&
    has(entry.text, filters.text)
  );
}
