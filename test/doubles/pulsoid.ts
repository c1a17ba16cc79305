/**
 * A Pulsoid real-time API double (docs.pulsoid.net, "Read Heart Rate via
 * WebSocket"): `…/api/v1/data/real_time?access_token=T` (or an
 * `Authorization: Bearer T` header), then one JSON message per reading,
 * `{"measured_at":1625310655000,"data":{"heart_rate":72}}`.
 * The docs do not say how a bad token is answered; this double refuses the
 * upgrade with HTTP 401 (what an OAuth2 resource server answers a bad bearer
 * token with, RFC 6750), which is an assumption.
 */
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';

export const PULSOID_PATH = '/api/v1/data/real_time';

export class PulsoidDouble {
  readonly sockets: WebSocket[] = [];

  private constructor(
    readonly url: string,
    private readonly seen: { attempts: number },
  ) {}

  /** Every connection attempt that reached the server (accepted or not). */
  get attempts(): number {
    return this.seen.attempts;
  }

  static async start(t: TestContext, token: string): Promise<PulsoidDouble> {
    const seen = { attempts: 0 };
    const server = new WebSocketServer({
      port: 0,
      host: '127.0.0.1',
      verifyClient: ({ req }: { req: IncomingMessage }, done: (ok: boolean, code?: number, message?: string) => void) => {
        seen.attempts++;
        const url = new URL(req.url ?? '/', 'http://localhost');
        const given = url.searchParams.get('access_token') ?? req.headers.authorization?.replace(/^Bearer /, '');
        if (url.pathname !== PULSOID_PATH) return done(false, 404, 'Not Found');
        if (given !== token) return done(false, 401, 'Unauthorized');
        done(true);
      },
    });
    await once(server, 'listening');
    const double = new PulsoidDouble(`ws://127.0.0.1:${(server.address() as AddressInfo).port}${PULSOID_PATH}`, seen);
    server.on('connection', (socket) => double.sockets.push(socket));
    t.after(async () => {
      for (const client of server.clients) client.terminate();
      await new Promise((resolve) => server.close(resolve));
    });
    return double;
  }

  get open(): WebSocket[] {
    return this.sockets.filter((socket) => socket.readyState === WebSocket.OPEN);
  }

  /** A reading, to every open connection. */
  beat(bpm: number, measuredAt = Date.now()): void {
    const text = JSON.stringify({ measured_at: measuredAt, data: { heart_rate: bpm } });
    for (const socket of this.open) socket.send(text);
  }

  /** Drops every connection, as a restart of the service would. */
  dropAll(): void {
    for (const socket of this.open) socket.terminate();
  }
}
