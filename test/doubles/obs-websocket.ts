/**
 * A stand-in for obs-websocket 5 (RPC 1) for the close codes real OBS cannot
 * be made to send from a test (4011 "kicked" comes from a button in OBS's UI).
 * It follows docs/generated/protocol.md: subprotocol obswebsocket.json, Hello
 * (op 0) on open without authentication, Identify (op 1) answered by
 * Identified (op 2), then the close code the test asks for.
 */
import { once } from 'node:events';
import type { TestContext } from 'node:test';
import { WebSocketServer } from 'ws';

export interface ObsDouble {
  url: string;
  /** Connections opened so far. */
  connections: () => number;
}

export async function obsDouble(t: TestContext, closeAfterIdentify: { code: number; reason: string }): Promise<ObsDouble> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: (protocols) => (protocols.has('obswebsocket.json') ? 'obswebsocket.json' : false) });
  await once(wss, 'listening');
  t.after(() => {
    for (const client of wss.clients) client.terminate();
    wss.close();
  });
  let connections = 0;
  wss.on('connection', (socket) => {
    connections++;
    socket.send(JSON.stringify({ op: 0, d: { obsWebSocketVersion: '5.1.0', rpcVersion: 1 } }));
    socket.on('message', (data) => {
      const { op } = JSON.parse(String(data)) as { op: number };
      if (op !== 1) return socket.close(4007, 'Not identified');
      socket.send(JSON.stringify({ op: 2, d: { negotiatedRpcVersion: 1 } }));
      socket.close(closeAfterIdentify.code, closeAfterIdentify.reason);
    });
  });
  const { port } = wss.address() as { port: number };
  return { url: `ws://127.0.0.1:${port}`, connections: () => connections };
}
