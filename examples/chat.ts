/**
 * Cross-world chat: every world that connects to /chat?room=<room>&name=<name>
 * joins the room; each line it sends appears in every other world as
 * `msg|<room>|<name>|<text>`, and a newcomer gets the last 20 lines.
 *
 *   npx tsx examples/chat.ts        then: ws://localhost:8778/chat?room=lobby&name=Alice
 *
 * Another port: RESOBRIDGE_PORT=8779 npx tsx examples/chat.ts (or --port 8779), e.g. next to npm start.
 * In your own project, import from 'resobridge' instead of '../src/index.js'.
 */
import { fileURLToPath } from 'node:url';
import { createServer, type ServerOptions } from '../src/index.js';
import { runExample } from './run.js';

export function chatServer(options: ServerOptions = {}) {
  return createServer(options).endpoint('/chat', {
    summary: 'cross-world chat: ?room=<room>&name=<your name>',
    options: ['room'],
    onConnect(context) {
      const room = context.connection.query.get('room') ?? 'lobby';
      context.join(room, 20);
      context.send('welcome', room);
    },
    onMessage(text, context) {
      const line = text.trim();
      if (line === '') return;
      context.publish(context.connection.query.get('room') ?? 'lobby', line.slice(0, 500));
    },
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await runExample(chatServer, (base) => `Chat server: connect worlds to ${base}/chat?room=lobby&name=<name>`);
}
