/**
 * Keeps one address from using up the server's sockets with requests it
 * never finishes (slowloris: a partial handshake, one header line at a time).
 * Per address, sockets that are not WebSocket connections are capped:
 * counted from the raw TCP connection until the upgrade (or until they
 * close), so a plain HTTP keep-alive socket counts while it stays open. Past
 * the cap a new socket gets 429 and is closed at once, before it costs
 * anything more. Node's headersTimeout (checked every second, see
 * createServer) ends those that stay half-open.
 */
import type { Server } from 'node:net';
import type { Socket } from 'node:net';
import { STATUS_CODES } from 'node:http';

export class SocketGuard {
  /** Sockets not (yet) upgraded, per remote address. */
  private readonly pending = new Map<string, number>();
  /**
   * Those sockets, by address and port (the same for a TLS socket and the TCP socket under it), with
   * their close listener: taken off when the handshake is over, so an upgraded socket keeps nothing of the guard.
   */
  private readonly counted = new Map<string, { socket: Socket; address: string; onClose: () => void }>();

  constructor(
    private readonly maxPerAddress: number,
    /** Plain HTTP: a refused socket is answered 429; under TLS it is only closed (there is no TLS session to answer in). */
    private readonly secure: boolean,
    private readonly refused: (address: string, pending: number) => void,
  ) {}

  attach(server: Server): void {
    server.on('connection', (socket: Socket) => this.connected(socket));
  }

  /** Sockets from `address` that are not WebSocket connections. */
  pendingFrom(address: string): number {
    return this.pending.get(address) ?? 0;
  }

  /** The socket's handshake is over (it was upgraded, or refused one): it no longer counts. */
  done(socket: Socket): void {
    const key = keyOf(socket);
    const entry = this.counted.get(key);
    if (!entry) return;
    entry.socket.off('close', entry.onClose);
    this.release(key, entry.address);
  }

  private release(key: string, address: string): void {
    if (!this.counted.delete(key)) return;
    const left = (this.pending.get(address) ?? 1) - 1;
    if (left > 0) this.pending.set(address, left);
    else this.pending.delete(address);
  }

  private connected(socket: Socket): void {
    const address = socket.remoteAddress ?? 'unknown';
    const count = this.pendingFrom(address);
    if (count >= this.maxPerAddress) {
      this.refused(address, count);
      return this.refuse(socket);
    }
    const key = keyOf(socket);
    this.pending.set(address, count + 1);
    // The address is read now: a closed socket no longer knows it.
    const onClose = () => this.release(key, address);
    this.counted.set(key, { socket, address, onClose });
    socket.on('close', onClose);
  }

  private refuse(socket: Socket): void {
    socket.on('error', () => {});
    if (this.secure) return void socket.destroy();
    const body = `Too many unfinished requests from your address (the limit is ${this.maxPerAddress}). Finish or close some first.\n`;
    socket.end(
      `HTTP/1.1 429 ${STATUS_CODES[429]}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      // Written: free the descriptor now, whatever the client does.
      () => socket.destroy(),
    );
  }
}

function keyOf(socket: Socket): string {
  return `${socket.remoteAddress ?? ''}|${socket.remotePort ?? ''}`;
}
