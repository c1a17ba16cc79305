import assert from 'node:assert/strict';
import { test } from 'node:test';
import { socketBudget } from '../src/server/socket-budget.js';

test('the socket budget: maxConnections plus room for handshakes, lowered (with a warning) only where the open-file limit cannot hold it', () => {
  // No limit known (not Linux): as configured.
  assert.deepEqual(socketBudget(20_000, undefined), { webSockets: 20_000, sockets: 21_250 });
  // A limit with room (Node raises the soft limit to the hard one, often a million): as configured, no warning.
  assert.deepEqual(socketBudget(20_000, 1_048_576), { webSockets: 20_000, sockets: 21_250 });
  // The default maxConnections against a limit of 20,000 (one file per socket): lowered, with room left for the rest.
  const tight = socketBudget(20_000, 20_000);
  assert.equal(tight.sockets, 20_000 - 256);
  assert.ok(tight.webSockets < tight.sockets);
  assert.match(tight.warning ?? '', /maxConnections is 20000, but this process may open only 20000 files \(ulimit -n\)/);
  // A small limit: a fraction kept for the process, the rest shared between WebSockets and handshakes.
  assert.deepEqual({ ...socketBudget(20_000, 256), warning: undefined }, { webSockets: 208, sockets: 224, warning: undefined });
});
