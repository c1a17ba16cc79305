import { useState } from 'preact/hooks';
import type { Feed } from './feed.js';
import { count, duration } from './format.js';
import { useFeed } from './use-feed.js';
import { AuthPrompt } from './views/auth.js';
import { Bridges } from './views/bridges.js';
import { Channels } from './views/channels.js';
import { Connections } from './views/connections.js';
import { Log } from './views/log.js';
import { Overview } from './views/overview.js';
import { Store } from './views/store.js';

const TABS = ['Overview', 'Connections', 'Channels', 'Log', 'Store', 'Bridges'] as const;
type Tab = (typeof TABS)[number];

export function App({ feed }: { feed: Feed }) {
  useFeed(feed);
  const [tab, setTab] = useState<Tab>('Overview');
  if (feed.status === 'needs-token') return <AuthPrompt feed={feed} />;
  const { hello, state } = feed;
  const badge: Partial<Record<Tab, number>> = state
    ? { Connections: state.totals.connections, Channels: state.totals.channels, Bridges: state.bridges.length }
    : {};
  return (
    <div class="app">
      <header class="top">
        <div class="brand">
          <strong>resobridge</strong>
          {hello && <span class="muted">v{hello.version}</span>}
        </div>
        <div class="status">
          {hello && state && <span class="muted">up {duration(state.now - hello.startedAt)}</span>}
          <span class={`dot ${feed.status}`} aria-hidden="true" />
          <span>{feed.status === 'live' ? 'live' : feed.status === 'offline' ? 'reconnecting…' : 'connecting…'}</span>
        </div>
      </header>
      <nav class="tabs" role="tablist">
        {TABS.map((name) => (
          <button role="tab" aria-selected={tab === name} class={tab === name ? 'active' : ''} onClick={() => setTab(name)} key={name}>
            {name}
            {badge[name] !== undefined && <span class="count">{count(badge[name] ?? 0)}</span>}
          </button>
        ))}
      </nav>
      <main>
        {!hello || !state ? (
          <p class="muted">Connecting to the server…</p>
        ) : tab === 'Overview' ? (
          <Overview hello={hello} state={state} />
        ) : tab === 'Connections' ? (
          <Connections feed={feed} state={state} />
        ) : tab === 'Channels' ? (
          <Channels feed={feed} state={state} />
        ) : tab === 'Log' ? (
          <Log feed={feed} />
        ) : tab === 'Store' ? (
          <Store feed={feed} />
        ) : (
          <Bridges state={state} />
        )}
      </main>
    </div>
  );
}
