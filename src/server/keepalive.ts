/**
 * Protocol pings on one timer for all connections. Resonite drops a connection
 * when the server sends nothing for 60 s; pings count as traffic and never
 * reach the world's logic. A client is dropped only after `maxMissedPongs`
 * unanswered pings in a row, so a game hitch of a few seconds is tolerated.
 * Only a pong counts as an answer: the ping waits behind everything sent
 * before it, so a pong shows the client reads; its own messages do not.
 */
import type { Connection } from './connection.js';

export class Keepalive {
  private readonly timer: NodeJS.Timeout;

  constructor(
    connections: () => Iterable<Connection>,
    intervalMs: number,
    maxMissedPongs: number,
    onDrop: (connection: Connection) => void,
  ) {
    this.timer = setInterval(() => {
      for (const connection of connections()) {
        if (connection.missedPongs >= maxMissedPongs) {
          onDrop(connection);
          connection.terminate(`unresponsive: no answer to ${maxMissedPongs} pings in a row`);
        } else {
          connection.missedPongs++;
          connection.ping();
        }
      }
    }, intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
