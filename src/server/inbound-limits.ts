/**
 * Limits on what clients send: per connection (messages/s, bytes/s), per
 * remote address (messages/s over all its connections and HTTP API requests,
 * connections held, new connections per second), and connections in total.
 * A connection over its allowance is not dropped from: its reading pauses
 * until the allowance has room again (see InboundGate).
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

  /** Milliseconds until `amount` may be taken (0: now). An amount over the burst needs a full bucket. */
  waitMs(amount = 1): number {
    if (this.rate === 0) return 0;
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) * this.rate) / 1000);
    this.at = now;
    const missing = Math.min(amount, this.burst) - this.tokens;
    return missing <= 0 ? 0 : (missing * 1000) / this.rate;
  }

  take(amount = 1): boolean {
    if (this.waitMs(amount) > 0) return false;
    // An amount over the burst leaves the bucket below zero: paid back by waiting.
    if (this.rate !== 0) this.tokens -= amount;
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

/** Over an allowance: how long until it has room, and which limit it is. */
export interface Over {
  waitMs: number;
  over: string;
}

/** One connection's inbound allowance. */
export interface Allowance {
  /** Takes a message of `bytes` from every limit that applies, or (taking nothing) says when it could. */
  take(bytes: number): Over | undefined;
  release(): void;
}

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

  /** A connection from `address` opened; its messages take from the returned allowance, and `release` ends it. */
  open(address: string): Allowance {
    const state = this.address(address);
    state.connections++;
    this.total++;
    const { inboundRate, inboundBytesRate, addressInboundRate } = this.settings;
    const messages = new Bucket(inboundRate);
    const bytes = new Bucket(inboundBytesRate);
    return {
      take: (size) => {
        const waits: Over[] = [
          { waitMs: messages.waitMs(), over: `more than ${inboundRate} messages per second` },
          { waitMs: bytes.waitMs(size), over: `more than ${inboundBytesRate} bytes per second` },
          { waitMs: state.messages.waitMs(), over: `more than ${addressInboundRate} messages per second from your address` },
        ];
        const longest = waits.reduce((a, b) => (b.waitMs > a.waitMs ? b : a));
        if (longest.waitMs > 0) return longest;
        messages.take();
        bytes.take(size);
        state.messages.take();
        return undefined;
      },
      release: () => {
        state.connections--;
        this.total--;
      },
    };
  }

  /** An HTTP API request from `address`: it takes from the same per-address allowance as WebSocket messages. */
  request(address: string): Over | undefined {
    const state = this.address(address);
    const waitMs = state.messages.waitMs();
    if (waitMs > 0) return { waitMs, over: `more than ${this.settings.addressInboundRate} messages per second from your address` };
    state.messages.take();
    return undefined;
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
