import type { ConnectionRow, State } from '../../../src/dashboard/wire.js';
import { SendForm, Table, type Column } from '../components.js';
import type { Feed } from '../feed.js';
import { ago, clock, count, duration } from '../format.js';

const COLUMNS: Column[] = [
  'Name',
  'Endpoint',
  ['Channels', 'wide-only'],
  ['Address', 'wide-only'],
  ['Since', 'wide-only'],
  ['In', 'num'],
  ['Out', 'num'],
  ['Queue', 'num wide-only', 'queued / dropped by pacing'],
  ['Last message', 'wide-only'],
];

/** The live list, one server-side page at a time (so thousands of connections cost the page nothing), and the selected one. */
export function Connections({ feed, state }: { feed: Feed; state: State }) {
  const { matching, offset, rows } = state.connections;
  const { limit, filter, selected } = feed.view;
  const last = Math.min(offset + rows.length, matching);
  return (
    <div class="split">
      <section class="card grow">
        <div class="toolbar">
          <input
            type="search"
            aria-label="Filter connections"
            placeholder="Filter: name, path, channel, address, id"
            value={filter}
            onInput={(e) => feed.setView({ filter: e.currentTarget.value, offset: 0 })}
          />
          <span class="muted pager">
            {matching === 0 ? 'none' : `${count(offset + 1)}–${count(last)} of ${count(matching)}`}
            <button type="button" class="small" aria-label="Previous page" disabled={offset === 0} onClick={() => feed.setView({ offset: Math.max(0, offset - limit) })}>
              ‹
            </button>
            <button type="button" class="small" aria-label="Next page" disabled={last >= matching} onClick={() => feed.setView({ offset: offset + limit })}>
              ›
            </button>
          </span>
        </div>
        <Table
          columns={COLUMNS}
          empty={matching === 0 && (filter ? 'No connection matches the filter.' : `No one is connected yet. Connect a world or run: ${feed.hello?.commands.client ?? 'resobridge client'} ${feed.hello?.endpoints[0]?.example ?? 'ws://localhost:8778/echo'}`)}
        >
          {rows.map((row) => (
            <tr
              key={row.id}
              class={row.id === selected ? 'selected' : ''}
              onClick={() => feed.setView({ selected: row.id === selected ? null : row.id })}
              tabIndex={0}
              aria-label={`connection ${row.name}`}
            >
              <td>
                <strong>{row.name}</strong> <span class="muted small">{row.id}</span>
              </td>
              <td>
                <code>{row.path}</code>
              </td>
              <td class="wide-only">{row.channels.join(', ')}</td>
              <td class="wide-only">{row.remote}</td>
              <td class="wide-only">{duration(state.now - row.connectedAt)}</td>
              <td class="num">{count(row.messagesIn)}</td>
              <td class="num">{count(row.messagesOut)}</td>
              <td class={`num wide-only ${row.dropped > 0 ? 'warn' : ''}`}>
                {row.queued} / {row.dropped}
              </td>
              <td class="wide-only">{ago(row.lastMessageAt, state.now)}</td>
            </tr>
          ))}
        </Table>
      </section>
      {state.selected ? (
        <ConnectionDetail feed={feed} row={state.selected.row} recent={state.selected.recent} now={state.now} />
      ) : (
        selected && (
          <section class="card detail">
            <p class="muted">That connection has closed.</p>
          </section>
        )
      )}
    </div>
  );
}

function ConnectionDetail({ feed, row, recent, now }: { feed: Feed; row: ConnectionRow; recent: NonNullable<State['selected']>['recent']; now: number }) {
  return (
    <section class="card detail" aria-label="Selected connection">
      <div class="toolbar">
        <h2>{row.name}</h2>
        <button type="button" class="small secondary" aria-label="Close" onClick={() => feed.setView({ selected: null })}>
          ✕
        </button>
      </div>
      <dl class="facts">
        <dt>Path</dt>
        <dd>
          <code>{row.path}</code>
        </dd>
        <dt>Channels</dt>
        <dd>{row.channels.join(', ') || '—'}</dd>
        <dt>Address</dt>
        <dd>{row.remote}</dd>
        <dt>Connected</dt>
        <dd>{duration(now - row.connectedAt)} ago</dd>
        <dt>Messages</dt>
        <dd>
          {count(row.messagesIn)} in, {count(row.messagesOut)} out
        </dd>
        <dt>Pacing</dt>
        <dd>
          {row.queued} queued, {row.dropped} dropped
        </dd>
      </dl>
      <h3>Recent messages</h3>
      <ol class="messages">
        {recent.length === 0 && <li class="muted">None yet.</li>}
        {recent.map((message, i) => (
          <li key={i} class={message.direction}>
            <span class="muted small">
              {clock(message.time)} {message.direction === 'in' ? '→ server' : '← to client'}
            </span>
            <code>{message.text}</code>
          </li>
        ))}
      </ol>
      <SendForm label="Message to this connection" button="Send" run={(text) => feed.request({ type: 'send', conn: row.id, text })} />
    </section>
  );
}
