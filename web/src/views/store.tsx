import { useEffect, useState } from 'preact/hooks';
import type { KeyValueRow } from '../../../src/dashboard/wire.js';
import { Table } from '../components.js';
import type { Feed } from '../feed.js';

type Editing = { key: string; value: string; isNew: boolean } | undefined;

/** Keys by prefix in one namespace; edit and delete (a delete asks first). */
export function Store({ feed }: { feed: Feed }) {
  const [ns, setNs] = useState('default');
  const [prefix, setPrefix] = useState('');
  const [rows, setRows] = useState<KeyValueRow[] | undefined>();
  const [editing, setEditing] = useState<Editing>();
  const [confirming, setConfirming] = useState<string | undefined>();
  const [message, setMessage] = useState<{ ok: boolean; text: string } | undefined>();

  const run = async (what: () => Promise<unknown>, done?: string) => {
    try {
      await what();
      if (done) setMessage({ ok: true, text: done });
      setRows((await feed.request({ type: 'keys', ns, prefix })) as KeyValueRow[]);
    } catch (error) {
      setMessage({ ok: false, text: (error as Error).message });
    }
  };
  const list = () => run(async () => setMessage(undefined));
  // The default namespace's keys, at once: the first thing people look for.
  useEffect(() => void list(), []);

  return (
    <div class="stack">
      <section class="card">
        <form
          class="toolbar wrap"
          onSubmit={(event) => {
            event.preventDefault();
            void list();
          }}
        >
          <label class="inline">
            Namespace <input aria-label="Namespace" value={ns} onInput={(e) => setNs(e.currentTarget.value)} class="narrow" />
          </label>
          <label class="inline">
            Prefix <input aria-label="Key prefix" value={prefix} onInput={(e) => setPrefix(e.currentTarget.value)} class="narrow" />
          </label>
          <button type="submit">List keys</button>
          <button type="button" class="secondary" onClick={() => setEditing({ key: '', value: '', isNew: true })}>
            New key
          </button>
        </form>
        {message && (
          <p class={message.ok ? 'ok small' : 'error small'} role="status">
            {message.text}
          </p>
        )}
      </section>
      {editing && (
        <section class="card">
          <form
            class="stack"
            onSubmit={(event) => {
              event.preventDefault();
              const { key, value } = editing;
              void run(() => feed.request({ type: 'set', ns, key, value }), `Saved ${key}.`).then(() => setEditing(undefined));
            }}
          >
            <h2>{editing.isNew ? 'New key' : `Edit ${editing.key}`}</h2>
            {editing.isNew && <input aria-label="Key" placeholder="key" value={editing.key} onInput={(e) => setEditing({ ...editing, key: e.currentTarget.value })} />}
            <textarea aria-label="Value" rows={4} value={editing.value} onInput={(e) => setEditing({ ...editing, value: e.currentTarget.value })} />
            <div class="toolbar">
              <button type="submit">Save</button>
              <button type="button" class="secondary" onClick={() => setEditing(undefined)}>
                Cancel
              </button>
            </div>
          </form>
        </section>
      )}
      {rows && (
        <section class="card">
          <Table columns={['Key', 'Value', '']} empty={rows.length === 0 && `No keys${prefix ? ` start with "${prefix}"` : ''} in ${ns}.`}>
            {rows.map((row) => (
              <tr key={row.key}>
                <td>
                  <code>{row.key}</code>
                </td>
                <td class="clip">
                  <code>{row.value ?? ''}</code>
                </td>
                <td class="actions">
                  {confirming === row.key ? (
                    <>
                      <span class="small">Delete {row.key}?</span>
                      <button
                        type="button"
                        class="small danger"
                        onClick={() => {
                          setConfirming(undefined);
                          void run(() => feed.request({ type: 'delete', ns, key: row.key }), `Deleted ${row.key}.`);
                        }}
                      >
                        Yes, delete
                      </button>
                      <button type="button" class="small secondary" onClick={() => setConfirming(undefined)}>
                        Keep
                      </button>
                    </>
                  ) : (
                    <>
                      <button type="button" class="small" onClick={() => setEditing({ key: row.key, value: row.value ?? '', isNew: false })}>
                        Edit
                      </button>
                      <button type="button" class="small secondary" onClick={() => setConfirming(row.key)}>
                        Delete
                      </button>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </Table>
        </section>
      )}
    </div>
  );
}
