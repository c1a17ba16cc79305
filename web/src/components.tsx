import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // Without clipboard access (plain http on another machine): select-and-copy fallback.
      const area = document.createElement('textarea');
      area.value = text;
      document.body.append(area);
      area.select();
      document.execCommand('copy');
      area.remove();
    }
    setCopied(true);
    setTimeout(() => setCopied(false), 1_500);
  };
  return (
    <button type="button" class="small" onClick={copy} aria-label={`${label} ${text}`}>
      {copied ? 'Copied' : label}
    </button>
  );
}

/** A one-line text form that calls `run` and shows what came of it. */
export function SendForm({ label, button, run }: { label: string; button: string; run: (text: string) => Promise<unknown> }) {
  const [text, setText] = useState('');
  const [result, setResult] = useState<{ ok: boolean; text: string } | undefined>();
  return (
    <form
      class="send"
      onSubmit={async (event) => {
        event.preventDefault();
        try {
          await run(text);
          setResult({ ok: true, text: 'Sent.' });
          setText('');
        } catch (error) {
          setResult({ ok: false, text: (error as Error).message });
        }
      }}
    >
      <input aria-label={label} placeholder={label} value={text} onInput={(e) => setText(e.currentTarget.value)} />
      <button type="submit">{button}</button>
      {result && (
        <span class={result.ok ? 'ok small' : 'error small'} role="status">
          {result.text}
        </span>
      )}
    </form>
  );
}

/** A state as a coloured badge: `state` picks the colour, `label` (default: the state) is the text. */
export function Badge({ state, label = state }: { state: string; label?: string }) {
  return <span class={`badge ${state}`}>{label}</span>;
}

/** A column heading: its text, and classes such as `num` (right-aligned) or `wide-only` (hidden on narrow windows). */
export type Column = string | [label: string, className: string, title?: string];

/** The list tables: headings, then the rows given as children; `empty` when there are none. */
export function Table({ columns, children, empty }: { columns: Column[]; children: ComponentChildren; empty?: string | false }) {
  return (
    <div class="table-wrap">
      <table class="rows">
        <thead>
          <tr>
            {columns.map((column, i) => {
              const [label, className, title] = typeof column === 'string' ? [column] : column;
              return (
                <th class={className} title={title} key={i}>
                  {label}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
      {empty && <p class="muted empty">{empty}</p>}
    </div>
  );
}
