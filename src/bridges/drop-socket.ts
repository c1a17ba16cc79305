import WebSocket from 'ws';

/** Drops an app connection at once (a bridge that stops does not wait for the app's close handshake), resolving once it is closed. */
export async function dropSocket(socket: WebSocket | undefined): Promise<void> {
  if (!socket || socket.readyState === WebSocket.CLOSED) return;
  const closed = new Promise((resolve) => socket.once('close', resolve));
  socket.terminate();
  await closed;
}
