/**
 * Prometheus metrics (prom-client), one registry per server. Nothing here is on
 * the per-message hot path: message and byte counts live on each Connection
 * and are summed when Prometheus scrapes (plus the totals of closed ones).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BridgeStatus } from '../bridges/bridge.js';
import type { Connection } from '../server/connection.js';

interface Totals {
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
  dropped: number;
}

export interface MetricsSources {
  connections: () => Iterable<Connection>;
  channels: () => number;
  historyBytes: () => number;
  bridges: () => BridgeStatus[];
}

export class Metrics {
  readonly registry = new Registry();
  /** Counts of connections that have closed, by endpoint path. */
  private readonly closed = new Map<string, Totals>();
  readonly rateLimited: Counter<'reason'>;
  readonly handshakeFailures: Counter<'reason'>;
  readonly storeSeconds: Histogram<'operation'>;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    const live = (): Map<string, Totals & { connections: number }> => {
      const byEndpoint = new Map<string, Totals & { connections: number }>();
      for (const [endpoint, totals] of this.closed) byEndpoint.set(endpoint, { ...totals, connections: 0 });
      for (const connection of sources.connections()) {
        const entry = byEndpoint.get(connection.endpoint) ?? { messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0, dropped: 0, connections: 0 };
        entry.connections++;
        entry.messagesIn += connection.messagesIn;
        entry.messagesOut += connection.messagesOut;
        entry.bytesIn += connection.bytesIn;
        entry.bytesOut += connection.bytesOut;
        entry.dropped += connection.dropped;
        byEndpoint.set(connection.endpoint, entry);
      }
      return byEndpoint;
    };
    const perEndpoint = (name: string, help: string, pick: (totals: Totals & { connections: number }) => number, kind: 'counter' | 'gauge') => {
      const labelNames = ['endpoint'] as const;
      if (kind === 'gauge') {
        new Gauge({ name, help, labelNames, registers, collect() {
          this.reset();
          for (const [endpoint, totals] of live()) this.set({ endpoint }, pick(totals));
        } });
      } else {
        // A counter read from totals kept elsewhere: reset, then count up to the total.
        new Counter({ name, help, labelNames, registers, collect() {
          this.reset();
          for (const [endpoint, totals] of live()) this.inc({ endpoint }, pick(totals));
        } });
      }
    };
    perEndpoint('resobridge_connections', 'Open WebSocket connections, by endpoint', (t) => t.connections, 'gauge');
    perEndpoint('resobridge_messages_in_total', 'Messages received from clients, by endpoint', (t) => t.messagesIn, 'counter');
    perEndpoint('resobridge_messages_out_total', 'Messages sent to clients, by endpoint', (t) => t.messagesOut, 'counter');
    perEndpoint('resobridge_bytes_in_total', 'Bytes received from clients, by endpoint', (t) => t.bytesIn, 'counter');
    perEndpoint('resobridge_bytes_out_total', 'Bytes sent to clients, by endpoint', (t) => t.bytesOut, 'counter');
    perEndpoint('resobridge_dropped_total', 'Messages dropped by outbound pacing (a client that could not keep up), by endpoint', (t) => t.dropped, 'counter');
    new Gauge({
      name: 'resobridge_channels',
      help: 'Channels with members on this server',
      registers,
      collect() {
        this.set(sources.channels());
      },
    });
    new Gauge({
      name: 'resobridge_history_bytes',
      help: 'Bytes of channel history held in memory (bounded by maxHistoryBytes)',
      registers,
      collect() {
        this.set(sources.historyBytes());
      },
    });
    new Gauge({
      name: 'resobridge_bridge_up',
      help: 'Bridges: 1 when connected or running, 0 when connecting, retrying, failed or stopped',
      labelNames: ['name', 'type'],
      registers,
      collect() {
        this.reset();
        for (const bridge of sources.bridges()) this.set({ name: bridge.name, type: bridge.type }, bridge.state === 'connected' || bridge.state === 'running' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'resobridge_bridge_state',
      help: 'Bridges: 1 for the state each is in (connecting, connected, running, retrying, failed, stopped); why is in /healthz',
      labelNames: ['name', 'type', 'state'],
      registers,
      collect() {
        this.reset();
        for (const bridge of sources.bridges()) this.set({ name: bridge.name, type: bridge.type, state: bridge.state }, 1);
      },
    });
    this.rateLimited = new Counter({ name: 'resobridge_rate_limited_total', help: 'Inbound limits at work, by reason: held (a client over its allowance: a message waits and reading pauses), closed (over it for too long)', labelNames: ['reason'], registers });
    this.handshakeFailures = new Counter({ name: 'resobridge_handshake_failures_total', help: 'Refused WebSocket handshakes, by HTTP status', labelNames: ['reason'], registers });
    this.storeSeconds = new Histogram({
      name: 'resobridge_store_operation_seconds',
      help: 'Store operation latency, by operation',
      labelNames: ['operation'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
  }

  /** A connection closed: keep its counts in the endpoint's totals. */
  closedConnection(connection: Connection): void {
    const endpoint = connection.endpoint;
    const totals = this.closed.get(endpoint) ?? { messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0, dropped: 0 };
    totals.messagesIn += connection.messagesIn;
    totals.messagesOut += connection.messagesOut;
    totals.bytesIn += connection.bytesIn;
    totals.bytesOut += connection.bytesOut;
    totals.dropped += connection.dropped;
    this.closed.set(endpoint, totals);
  }
}

/** Channels are many; their endpoint label is the pattern, so the label set stays small. */
