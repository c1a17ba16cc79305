/**
 * Channels: who is in which, and delivery of messages and presence notices to
 * this node's members. Other nodes are reached through the Broker.
 * A relay member (`/channel/<name>`) gets each message exactly as it was sent;
 * a command-mode member gets `msg|<channel>|<from>|<text>` (or JSON). Each
 * encoding is made once per event, not once per recipient.
 */
import type { Encoding, Message } from '../protocol/message.js';
import { messages } from '../protocol/messages.js';
import { TextFrame } from '../protocol/text-frame.js';
import type { Delivery } from '../server/pacer.js';
import type { Broker, ChannelEvent, ChannelMessage } from './broker.js';

/** What the hub needs of a connection: somewhere to send text, a name, and how it reads messages. */
export interface Recipient {
  readonly name: string;
  readonly encoding: Encoding;
  /** Channel traffic goes as 'stream': droppable (oldest first, or past its age) when the client cannot keep up; a history replay as 'history' (not dropped for its age). */
  send(text: string | TextFrame, delivery: Delivery): boolean;
}

export interface JoinOptions {
  /** Relay: messages arrive exactly as sent, with no tag. Otherwise as `msg|…`. */
  relay: boolean;
  /** The sender also receives its own messages. */
  echo: boolean;
  /** Receive `joined|<channel>|<name>` and `left|<channel>|<name>` notices. */
  presence: boolean;
  /** Replay this many of the channel's last messages on join. */
  history: number;
  /** Not a member others see: no joined/left notices, not in the member list (an HTTP long-poll waiting for a message). */
  hidden?: boolean;
}

/** One recipient's place in one channel. */
export interface Membership {
  /** `coalesce`: a key for a stream where only the latest value matters (see ChannelMessage). */
  publish(text: string, coalesce?: string): void;
  leave(): void;
}

interface Member extends JoinOptions {
  recipient: Recipient;
  /** A program (a bridge) rather than a client: it gets each message event itself, nothing encoded. */
  listener?: Listener;
  /** A bridge told of each client that joins on this node (see listen). */
  onJoin?: (greet: Greet) => void;
  /** Live messages held back until the history replay has been sent (with the broker's id, to drop those the replay had). */
  pending: Held[] | undefined;
}

interface Held {
  text: TextFrame;
  id: string | undefined;
}

/**
 * Most live messages held back for one member while its history replay is
 * read (a remote broker can take seconds): past it the oldest go, as the
 * member's outbound queue would drop them anyway.
 */
export const MAX_HELD = 256;

/** Sends one message to one newly joined client only (coalesced like a published one when it has `coalesce`). */
export type Greet = (event: ChannelMessage) => void;

/** Sees every channel message this node delivers (the dashboard's log and rates); `relayed` when a relay member sent it. */
export type MessageTap = (event: ChannelMessage, relayed: boolean) => void;

/** A bridge's ear in a channel: each message, and who on this node sent it (undefined: another node, or no member) to whisper back to. */
export type Listener = (event: ChannelMessage, sender?: Recipient) => void;

export class Hub {
  private readonly channels = new Map<string, Set<Member>>();
  /** The members with onJoin (bridges), per channel: a join looks only at these, not at every member. */
  private readonly greeters = new Map<string, Set<Member>>();
  /** Set by the dashboard; nothing is called when it is off. */
  tap: MessageTap | undefined;

  constructor(
    private readonly broker: Broker,
    private readonly onError: (error: unknown, channel: string) => void = () => {},
  ) {
    broker.onRemoteEvent = (event) => this.deliver(event, undefined);
  }

  /** Number of channels with members on this node. */
  get channelCount(): number {
    return this.channels.size;
  }

  /** Each channel with members on this node, and who they are. */
  *localMembers(): Iterable<[channel: string, recipients: Recipient[]]> {
    for (const [channel, members] of this.channels) {
      const shown = [...members].filter((member) => !member.hidden).map((member) => member.recipient);
      if (shown.length > 0) yield [channel, shown];
    }
  }

  /** Bytes of channel history held in this process (the memory broker's; 0 when a remote broker keeps it). */
  get historyBytes(): number {
    return this.broker.historyBytes?.() ?? 0;
  }

  /** The channel's last `limit` messages, oldest first (on every node: the broker keeps them). */
  history(channel: string, limit: number): Promise<ChannelMessage[]> {
    return this.broker.history(channel, limit);
  }

  /** How many messages the channel's history holds now (up to `max`). */
  async historyLength(channel: string, max: number): Promise<number> {
    return (await this.broker.history(channel, max)).length;
  }

  /**
   * Joins a bridge to a channel: `onMessage` gets every message others publish
   * there, as the event (no text to encode and parse back). Presence is not told;
   * `onJoin`, if given, is called when a client joins the channel on this node,
   * with a function that sends that client alone a message (a bridge greets it
   * with the current state of what it follows, so nobody else gets duplicates).
   */
  listen(channel: string, name: string, onMessage: Listener, onJoin?: (greet: Greet) => void): Membership {
    const silent: Recipient = { name, encoding: 'line', send: () => false };
    return this.join(channel, silent, { relay: false, echo: false, presence: false, history: 0 }, onMessage, onJoin);
  }

  /**
   * Hears the channel's next messages (from this node and, through the broker, the others)
   * without being a member: no one is told, the member list does not change.
   */
  observe(channel: string, onMessage: (event: ChannelMessage) => void): Membership {
    const silent: Recipient = { name: '', encoding: 'line', send: () => false };
    return this.join(channel, silent, { relay: false, echo: false, presence: false, history: 0, hidden: true }, onMessage);
  }

  join(channel: string, recipient: Recipient, options: JoinOptions, listener?: Listener, onJoin?: (greet: Greet) => void): Membership {
    const member: Member = { ...options, recipient, listener, onJoin, pending: options.history > 0 ? [] : undefined };
    let members = this.channels.get(channel);
    if (!members) {
      members = new Set();
      this.channels.set(channel, members);
      this.broker.subscribe(channel).catch((error: unknown) => this.onError(error, channel));
    }
    members.add(member);
    if (onJoin) this.greeters.set(channel, (this.greeters.get(channel) ?? new Set()).add(member));
    if (member.pending) this.replay(channel, member);
    if (!member.hidden) this.announce({ type: 'joined', channel, name: recipient.name }, member);
    if (!listener) this.greet(channel, member);

    let left = false;
    return {
      publish: (text, coalesce) => {
        if (!left) this.publish({ type: 'message', channel, senderName: recipient.name, text, ...(coalesce === undefined ? {} : { coalesce }) }, member);
      },
      leave: () => {
        if (left) return;
        left = true;
        this.leave(channel, member);
      },
    };
  }

  /** Publishes to a channel without being a member of it (from a command, an app or a bridge). */
  publish(event: ChannelMessage, origin?: Member): void {
    this.deliver(event, origin);
    this.broker.publish(event);
  }

  /** Display names of the channel's members on every node (one per membership), sorted. */
  members(channel: string): Promise<string[]> {
    return this.broker.members(channel);
  }

  /**
   * Sends a message to the members of a channel that are `to` (the sender a bridge's listener
   * was told of: that connection only) or, given a name, that have that display name (on this
   * node), and no one else. Returns how many received it.
   */
  whisper(event: ChannelMessage, to: string | Recipient): number {
    const encoder = encoderFor(event);
    const delivery = deliveryFor(event);
    let count = 0;
    for (const member of this.channels.get(event.channel) ?? []) {
      if (typeof to === 'string' ? member.recipient.name !== to : member.recipient !== to) continue;
      if (member.listener) member.listener(event);
      else send(member, encoder(member), delivery);
      count++;
    }
    return count;
  }

  /**
   * Lets each bridge in the channel greet a client that just joined: on the next turn,
   * so a command-mode client reads `ok|join|…` first, as the reply comes before anything else.
   */
  private greet(channel: string, joined: Member): void {
    if (!this.greeters.has(channel)) return;
    setImmediate(() => {
      if (!this.channels.get(channel)?.has(joined)) return;
      for (const member of this.greeters.get(channel) ?? []) {
        if (member !== joined) member.onJoin?.((event) => {
          const delivery: Delivery = event.coalesce ? { coalesce: `${event.channel}|${event.coalesce}` } : 'stream';
          send(joined, encoderFor(event)(joined), delivery);
        });
      }
    });
  }

  private leave(channel: string, member: Member): void {
    const members = this.channels.get(channel);
    if (!members?.delete(member)) return;
    const greeters = this.greeters.get(channel);
    if (greeters?.delete(member) && greeters.size === 0) this.greeters.delete(channel);
    if (members.size === 0) {
      this.channels.delete(channel);
      this.broker.unsubscribe(channel).catch((error: unknown) => this.onError(error, channel));
    }
    if (!member.hidden) this.announce({ type: 'left', channel, name: member.recipient.name }, member);
  }

  private announce(event: ChannelEvent, subject: Member): void {
    this.deliver(event, subject);
    this.broker.publish(event);
  }

  /**
   * Delivers to this node's members. `origin` is the local member the event
   * is about (the sender, or the one who joined/left), if any.
   */
  private deliver(event: ChannelEvent, origin: Member | undefined): void {
    if (this.tap && event.type === 'message') this.tap(event, origin?.relay === true);
    const members = this.channels.get(event.channel);
    if (!members) return;
    const encoder = encoderFor(event);
    const delivery = deliveryFor(event);
    for (const member of members) {
      const wanted = event.type === 'message' ? member !== origin || member.echo : member.presence && member !== origin;
      if (!wanted) continue;
      if (member.listener) {
        if (event.type === 'message') member.listener(event, origin?.recipient);
      } else {
        send(member, encoder(member), delivery, event.type === 'message' ? event.id : undefined);
      }
    }
  }

  private replay(channel: string, member: Member): void {
    this.broker
      .history(channel, member.history)
      .catch((error: unknown) => {
        this.onError(error, channel);
        return [];
      })
      .then((history) => {
        const live = member.pending ?? [];
        member.pending = undefined;
        const replayed = new Set<string | undefined>();
        for (const event of history) {
          replayed.add(event.id);
          member.recipient.send(encoderFor(event)(member), 'history');
        }
        // A message from another node can reach the history and this node's live feed in either order.
        for (const { text, id } of live) if (id === undefined || !replayed.has(id)) member.recipient.send(text, 'stream');
      });
  }
}

/** Channel traffic may be dropped when a client falls behind; a coalesced stream keeps its latest message per key. */
function deliveryFor(event: ChannelEvent): Delivery {
  return event.type === 'message' && event.coalesce ? { coalesce: `${event.channel}|${event.coalesce}` } : 'stream';
}

/**
 * Encodes an event for a member. Each form (the relayed text, the line, the
 * JSON) is encoded to bytes at most once per event and the same bytes go to
 * every member that reads that form.
 */
function encoderFor(event: ChannelEvent): (member: Member) => TextFrame {
  let relayed: TextFrame | undefined;
  let message: Message | undefined;
  return (member) => {
    if (event.type === 'message' && member.relay) return (relayed ??= TextFrame.of(event.text));
    message ??=
      event.type === 'message' ? messages.msg(event.channel, event.senderName, event.text) : messages[event.type](event.channel, event.name);
    return message.frame(member.relay ? 'line' : member.recipient.encoding);
  };
}

function send(member: Member, text: TextFrame, delivery: Delivery = 'stream', id?: string): void {
  if (!member.pending) {
    member.recipient.send(text, delivery);
    return;
  }
  member.pending.push({ text, id });
  if (member.pending.length > MAX_HELD) member.pending.shift();
}
