/** Small real servers, each of a kind the doctor must recognise. All on 127.0.0.1, random ports, closed after the test. */
import { once } from 'node:events';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { TestContext } from 'node:test';
import { generate } from 'selfsigned';
import { Server as SocketIoServer } from 'socket.io';
import { WebSocketServer } from 'ws';

type Closable = NetServer | HttpServer;

async function listen(t: TestContext, server: Closable): Promise<number> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    // Clients here hang up rudely on purpose; a reset is not a test failure.
    socket.on('error', () => {});
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  return (server.address() as { port: number }).port;
}

/** A port where nothing listens. */
export async function closedPort(): Promise<number> {
  const server = createNetServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** Accepts TCP and says nothing, ever. */
export const silentTcp = (t: TestContext) => listen(t, createNetServer(() => {}));

/** Accepts TCP and answers with bytes that are not HTTP. */
export const garbageTcp = (t: TestContext) =>
  listen(t, createNetServer((socket) => socket.end(Buffer.from('WELCOME TO THE GAME SERVER\u0000\u0001\r\n'))));

/** A plain web server answering every request with `status`. */
export const plainHttp = (t: TestContext, status: number) =>
  listen(
    t,
    createHttpServer((_req, res) => {
      res.writeHead(status, { 'Content-Type': 'text/html' });
      res.end(status === 200 ? '<!doctype html><html><body><h1>My homepage</h1></body></html>' : '<html><body>Not Found</body></html>');
    }),
  );

/** A real Socket.IO server. */
export async function socketIo(t: TestContext): Promise<number> {
  const http = createHttpServer();
  const io = new SocketIoServer(http);
  t.after(() => io.close());
  return listen(t, http);
}

/** A WebSocket server that answers every message with a binary frame (and greets with one). */
export async function binaryWebSocket(t: TestContext): Promise<number> {
  const http = createHttpServer();
  const wss = new WebSocketServer({ server: http });
  wss.on('connection', (socket) => {
    socket.send(Buffer.from([1, 2, 3]));
    socket.on('message', (data) => socket.send(Buffer.from(String(data))));
  });
  t.after(() => wss.close());
  return listen(t, http);
}

/** A WebSocket echo server that never pings and never speaks first; optionally closes quiet clients. */
export async function quietWebSocket(t: TestContext, closeIdleAfterMs?: number): Promise<number> {
  const http = createHttpServer();
  const wss = new WebSocketServer({ server: http });
  wss.on('connection', (socket) => {
    socket.on('message', (data) => socket.send(String(data)));
    if (closeIdleAfterMs !== undefined) setTimeout(() => socket.close(1000, 'idle'), closeIdleAfterMs);
  });
  t.after(() => wss.close());
  return listen(t, http);
}

/** A wss echo server with a self-signed certificate made for this test. */
export async function selfSignedWss(t: TestContext): Promise<number> {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }],
  });
  const https = createHttpsServer({ key: pems.private, cert: pems.cert });
  const wss = new WebSocketServer({ server: https });
  wss.on('connection', (socket) => socket.on('message', (data) => socket.send(String(data))));
  t.after(() => wss.close());
  return listen(t, https);
}
