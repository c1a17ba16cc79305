import type { Hello, State } from '../../../src/dashboard/wire.js';
import { CopyButton } from '../components.js';
import { count } from '../format.js';

export function Overview({ hello, state }: { hello: Hello; state: State }) {
  const { totals } = state;
  const stats: [string, number, string?][] = [
    ['Connections', totals.connections],
    ['Channels', totals.channels],
    ['Queued', totals.queued, 'messages waiting to be paced out to clients'],
    ['Dropped', totals.dropped, 'messages dropped because a client could not keep up (pacing)'],
  ];
  return (
    <div class="overview">
      <section class="stats">
        {stats.map(([label, value, title]) => (
          <div class="stat card" title={title} key={label}>
            <div class="value">{count(value)}</div>
            <div class="muted">{label}</div>
          </div>
        ))}
      </section>
      <section class="card">
        <h2>Paste into Resonite</h2>
        <p class="muted">Put one of these into the URL field of a WebsocketClient.</p>
        <ul class="urls">
          {hello.endpoints.map((endpoint) => (
            <li key={endpoint.url}>
              <code>{endpoint.example}</code>
              <CopyButton text={endpoint.example} />
              <span class="muted">{endpoint.summary}</span>
            </li>
          ))}
        </ul>
        {hello.bases.length > 1 && (
          <p class="muted small">
            Also reachable at: {hello.bases.slice(1).map((base) => <code key={base}>{base}</code>)}
          </p>
        )}
      </section>
      <section class="card help">
        <h2>Not connecting?</h2>
        <ul>
          <li>
            Run the checklist against the URL: <code>{hello.commands.doctor} {hello.endpoints[0]?.example ?? 'ws://localhost:8778/echo'}</code>
          </li>
          <li>
            The URL starts with <code>ws://</code> (or <code>wss://</code>), never <code>http://</code>.
          </li>
          <li>
            Resonite asks before it connects to a new host and port: choose Allow. Denied by accident? Dash → Debug → <strong>Web Hosts</strong> →
            Remove Setting, then Allow at the next prompt.
          </li>
          <li>
            <code>localhost</code> is the HandlingUser's own machine: set the WebsocketClient's HandlingUser to the person who runs this
            server.
          </li>
        </ul>
      </section>
      <section class="card">
        <h2>Server</h2>
        <dl class="facts">
          <dt>Version</dt>
          <dd>{hello.version}</dd>
          <dt>Started</dt>
          <dd>{new Date(hello.startedAt).toLocaleString()}</dd>
          <dt>Listening on</dt>
          <dd>{hello.bases.join(', ')}</dd>
          <dt>Store</dt>
          <dd>{hello.store}</dd>
          <dt>Channel broker</dt>
          <dd>{hello.broker}</dd>
        </dl>
      </section>
    </div>
  );
}
