/**
 * The floor: what Node + ws do with no features. /echo echoes; any other path
 * is a broadcast group (to the others, and to the sender too with ?echo=1).
 * Usage: ws-minimal.ts PORT [PING_MS]
 */
import { WebSocketServer, type WebSocket } from 'ws';

const port = Number(process.argv[2]);
const pingMs = Number(process.argv[3] ?? 0);
const groups = new Map<string, Set<WebSocket>>();
const wss = new WebSocketServer({ port, host: '127.0.0.1', perMessageDeflate: false });

wss.on('connection', (socket, request) => {
  const url = new URL(request.url ?? '/', 'http://localhost');
  if (url.pathname === '/echo') {
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
    return;
  }
  const echo = url.searchParams.get('echo') === '1';
  let group = groups.get(url.pathname);
  if (!group) groups.set(url.pathname, (group = new Set()));
  const members = group;
  members.add(socket);
  socket.on('message', (data, isBinary) => {
    for (const member of members) if (member !== socket || echo) member.send(data, { binary: isBinary });
  });
  socket.once('close', () => members.delete(socket));
});

if (pingMs > 0) setInterval(() => wss.clients.forEach((socket) => socket.ping()), pingMs);
wss.on('listening', () => console.log('ready'));
