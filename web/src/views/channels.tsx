import { useState } from 'preact/hooks';
import type { State } from '../../../src/dashboard/wire.js';
import { Table } from '../components.js';
import type { Feed } from '../feed.js';
import { count } from '../format.js';

export function Channels({ feed, state }: { feed: Feed; state: State }) {
  const [channel, setChannel] = useState('');
  const [text, setText] = useState('');
  const [result, setResult] = useState<{ ok: boolean; text: string } | undefined>();
  return (
    <div class="stack">
      <section class="card">
        <h2>Publish to a channel</h2>
        <form
          class="send"
          onSubmit={async (event) => {
            event.preventDefault();
            try {
              await feed.request({ type: 'publish', channel: channel.trim(), text });
              setResult({ ok: true, text: `Published to ${channel.trim()}.` });
              setText('');
            } catch (error) {
              setResult({ ok: false, text: (error as Error).message });
            }
          }}
        >
          <input aria-label="Channel" placeholder="channel" value={channel} onInput={(e) => setChannel(e.currentTarget.value)} class="narrow" />
          <input aria-label="Text to publish" placeholder="text" value={text} onInput={(e) => setText(e.currentTarget.value)} />
          <button type="submit">Publish</button>
          {result && (
            <span class={result.ok ? 'ok small' : 'error small'} role="status">
              {result.text}
            </span>
          )}
        </form>
        <p class="muted small">Members receive it from the sender "dashboard".</p>
      </section>
      <section class="card">
        <Table
          columns={['Channel', ['Members', 'num'], 'Who', ['Messages/s', 'num'], ['History', 'num', 'messages its history holds for ?history=N']]}
          empty={state.channels.length === 0 && 'No channel has members on this server right now.'}
        >
          {state.channels.map((row) => (
            <tr key={row.name} onClick={() => setChannel(row.name)} title="Click to publish to this channel">
              <td>
                <strong>{row.name}</strong>
              </td>
              <td class="num">{count(row.members.length)}</td>
              <td class="clip">{row.members.slice(0, 8).join(', ') + (row.members.length > 8 ? ` and ${row.members.length - 8} more` : '')}</td>
              <td class="num">{row.rate}</td>
              <td class="num">{row.history}</td>
            </tr>
          ))}
        </Table>
      </section>
    </div>
  );
}
