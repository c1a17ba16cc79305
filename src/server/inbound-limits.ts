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
    this.spend(amount);
    return true;
  }

  /** Takes `amount` just found available by waitMs (no second look at the clock). */
  spend(amount = 1): void {
    // An amount over the burst leaves the bucket below zero: paid back by waiting.
    if (this.rate !== 0) this.tokens -= amount;
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

export interface AddressState {
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
    return new ConnectionAllowance(this, state, this.settings);
  }

  /** A connection's allowance ended. */
  closed(state: AddressState): void {
    state.connections--;
    this.total--;
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

/** One connection's buckets, with its address's; a class, so 10,000 of them share their methods. */
class ConnectionAllowance implements Allowance {
  private readonly messages: Bucket;
  private readonly bytes: Bucket;

  constructor(
    private readonly limits: InboundLimits,
    private readonly state: AddressState,
    private readonly settings: InboundSettings,
  ) {
    this.messages = new Bucket(settings.inboundRate);
    this.bytes = new Bucket(settings.inboundBytesRate);
  }

  take(size: number): Over | undefined {
    const messagesWait = this.messages.waitMs();
    const bytesWait = this.bytes.waitMs(size);
    const addressWait = this.state.messages.waitMs();
    const longest = Math.max(messagesWait, bytesWait, addressWait);
    if (longest > 0) {
      // The limit that holds longest is the one to name; the text is built only when over.
      if (longest === messagesWait) return { waitMs: longest, over: `more than ${this.settings.inboundRate} messages per second` };
      if (longest === bytesWait) return { waitMs: longest, over: `more than ${this.settings.inboundBytesRate} bytes per second` };
      return { waitMs: longest, over: `more than ${this.settings.addressInboundRate} messages per second from your address` };
    }
    this.messages.spend();
    this.bytes.spend(size);
    this.state.messages.spend();
    return undefined;
  }

  release(): void {
    this.limits.closed(this.state);
  }
}
