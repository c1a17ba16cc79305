/**
 * Limits on what clients send: per connection (messages/s, bytes/s), per
 * remote address (messages/s over all its connections, connections held,
 * new connections per second), and connections in total. Over a limit a
 * message is dropped and the client told `error|rate|…` (at most once a
 * second); one that keeps at it is closed with 1008.
 */

/** A token bucket: `rate` per second, up to `burst` saved up. Rate 0 means no limit. */
export class Bucket {
  private tokens: number;
  private at = performance.now();

  constructor(
    private readonly rate: number,
    private readonly burst = rate * 2,
  ) {
    this.tokens = burst;
  }

  take(amount = 1): boolean {
    if (this.rate === 0) return true;
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) * this.rate) / 1000);
    this.at = now;
    if (this.tokens < amount) return false;
    this.tokens -= amount;
    return true;
  }
}

export interface InboundSettings {
  inboundRate: number;
  inboundBytesRate: number;
  addressInboundRate: number;
  maxConnections: number;
  maxConnectionsPerAddress: number;
  handshakeRate: number;
}

interface AddressState {
  connections: number;
  messages: Bucket;
  handshakes: Bucket;
}

/** What happened to one incoming message. */
export type Verdict = 'ok' | { drop: string; tell: boolean } | { close: string };

const ABUSE_WINDOW_MS = 10_000;

export class InboundLimits {
  private readonly addresses = new Map<string, AddressState>();
  private total = 0;

  constructor(private readonly settings: InboundSettings) {}

  /** May a new connection from `address` be accepted? Undefined if yes, else the HTTP status and why. */
  admit(address: string): { status: number; reason: string } | undefined {
    const state = this.address(address);
    if (this.total >= this.settings.maxConnections) {
      return { status: 503, reason: 'The server is full right now. Try again later.' };
    }
    if (state.connections >= this.settings.maxConnectionsPerAddress) {
      return { status: 429, reason: `Too many connections from your address (the limit is ${this.settings.maxConnectionsPerAddress}). Close some first.` };
    }
    if (!state.handshakes.take()) {
      return { status: 429, reason: `Too many new connections from your address; at most ${this.settings.handshakeRate} per second. Slow down (raise ConnectRetryInterval).` };
    }
    return undefined;
  }

  /** A connection from `address` opened; the returned function judges each of its messages, and `release` ends it. */
  open(address: string): { judge: (bytes: number) => Verdict; release: () => void } {
    const state = this.address(address);
    state.connections++;
    this.total++;
    const messages = new Bucket(this.settings.inboundRate);
    const bytes = new Bucket(this.settings.inboundBytesRate);
    let windowStart = performance.now();
    let violations = 0;
    let toldAt = -Infinity;
    const limit = Math.max(this.settings.inboundRate, 10) * 3;
    return {
      judge: (size) => {
        const now = performance.now();
        let over: string | undefined;
        if (!messages.take()) over = `more than ${this.settings.inboundRate} messages per second`;
        else if (!bytes.take(size)) over = `more than ${this.settings.inboundBytesRate} bytes per second`;
        else if (!state.messages.take()) over = `more than ${this.settings.addressInboundRate} messages per second from your address`;
        if (!over) return 'ok';
        if (now - windowStart > ABUSE_WINDOW_MS) {
          windowStart = now;
          violations = 0;
        }
        if (++violations > limit) return { close: `sending too fast (${over}, for too long)` };
        const tell = now - toldAt >= 1_000;
        if (tell) toldAt = now;
        return { drop: `you are sending ${over}; messages over the limit are dropped`, tell };
      },
      release: () => {
        state.connections--;
        this.total--;
      },
    };
  }

  private address(address: string): AddressState {
    let state = this.addresses.get(address);
    if (!state) {
      // Addresses are remembered (for their handshake rate) while few; past that, idle ones are forgotten.
      if (this.addresses.size >= 10_000) {
        for (const [key, value] of this.addresses) if (value.connections === 0) this.addresses.delete(key);
      }
      state = { connections: 0, messages: new Bucket(this.settings.addressInboundRate), handshakes: new Bucket(this.settings.handshakeRate) };
      this.addresses.set(address, state);
    }
    return state;
  }
}
