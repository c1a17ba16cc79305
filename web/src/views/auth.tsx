import { useState } from 'preact/hooks';
import type { Feed } from '../feed.js';

/** Shown when the server is reachable from other machines: the dashboard needs an admin token. */
export function AuthPrompt({ feed }: { feed: Feed }) {
  const [token, setToken] = useState('');
  return (
    <div class="auth">
      <form
        class="card"
        onSubmit={(event) => {
          event.preventDefault();
          if (token.trim()) feed.authenticate(token.trim());
        }}
      >
        <h1>resobridge dashboard</h1>
        <p>This server can be reached from other machines, so its dashboard needs an admin token.</p>
        <label>
          Admin token
          <input type="password" autoComplete="current-password" value={token} onInput={(e) => setToken(e.currentTarget.value)} autoFocus />
        </label>
        {feed.authReason && (
          <p class="error" role="alert">
            {feed.authReason}
          </p>
        )}
        <button type="submit">Open the dashboard</button>
        <p class="muted small">
          That is the server's <code>--dashboard-token</code>, or a token from its configuration that allows <code>*</code>.
        </p>
      </form>
    </div>
  );
}
