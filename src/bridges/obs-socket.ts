/**
 * obs-websocket-js (JSON encoding: its Node default is msgpack) with what the
 * bridge needs on top: WebSocket pings (obs-websocket has no application-level
 * ping, and a host that vanishes without closing would otherwise hang the
 * bridge) and a way to drop the connection at once.
 */
import OBSWebSocket from 'obs-websocket-js/json';
import type WebSocket from 'ws';

export class ObsSocket extends OBSWebSocket {
  private awaitingPong = false;

  /** In Node, obs-websocket-js's socket is a `ws` WebSocket. */
  private get ws(): WebSocket | undefined {
    return this.socket as unknown as WebSocket | undefined;
  }

  /** Has a socket (open, opening or closing): a close event is still to come. */
  get hasSocket(): boolean {
    return this.ws !== undefined;
  }

  /** One keepalive beat: pings OBS, or drops the connection when the last ping got no pong. */
  beat(): void {
    const socket = this.ws;
    if (!socket || socket.readyState !== socket.OPEN) return;
    if (this.awaitingPong) {
      socket.terminate();
      return;
    }
    if (socket.listenerCount('pong') === 0) socket.on('pong', () => (this.awaitingPong = false));
    this.awaitingPong = true;
    socket.ping();
  }

  /** Drops the connection without the closing handshake (a close event follows). */
  drop(): void {
    this.ws?.terminate();
  }
}
