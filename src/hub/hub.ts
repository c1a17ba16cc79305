/**
 * Channels: who is in which, and delivery of messages and presence notices to
 * this node's members. Other nodes are reached through the Broker.
 * Relay is "no protocol": a message is delivered exactly as it was sent.
 */
import { formatLine } from '../protocol/line.js';
import type { Broker, ChannelEvent } from './broker.js';

/** What the hub needs of a connection: somewhere to send text, and a name. */
export interface Recipient {
  readonly name: string;
  send(text: string): boolean;
}

export interface JoinOptions {
  /** The sender also receives its own messages. */
  echo: boolean;
  /** Receive `joined|<channel>|<name>` and `left|<channel>|<name>` notices. */
  presence: boolean;
  /** Replay this many of the channel's last messages on join. */
  history: number;
}

/** One recipient's place in one channel. */
export interface Membership {
  publish(text: string): void;
  leave(): void;
}

interface Member extends JoinOptions {
  recipient: Recipient;
  /** Live messages held back until the history replay has been sent. */
  pending: string[] | undefined;
}

export class Hub {
  private readonly channels = new Map<string, Set<Member>>();

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

  join(channel: string, recipient: Recipient, options: JoinOptions): Membership {
    const member: Member = { ...options, recipient, pending: options.history > 0 ? [] : undefined };
    let members = this.channels.get(channel);
    if (!members) {
      members = new Set();
      this.channels.set(channel, members);
      this.broker.subscribe(channel).catch((error: unknown) => this.onError(error, channel));
    }
    members.add(member);
    if (member.pending) this.replay(channel, member);
    this.announce({ type: 'joined', channel, name: recipient.name }, member);

    let left = false;
    return {
      publish: (text) => {
        if (left) return;
        const event: ChannelEvent = { type: 'message', channel, senderName: recipient.name, text };
        this.deliver(event, member);
        this.broker.publish(event);
      },
      leave: () => {
        if (left) return;
        left = true;
        this.leave(channel, member);
      },
    };
  }

  private leave(channel: string, member: Member): void {
    const members = this.channels.get(channel);
    if (!members?.delete(member)) return;
    if (members.size === 0) {
      this.channels.delete(channel);
      this.broker.unsubscribe(channel).catch((error: unknown) => this.onError(error, channel));
    }
    this.announce({ type: 'left', channel, name: member.recipient.name }, member);
  }

  private announce(event: ChannelEvent, subject: Member): void {
    this.deliver(event, subject);
    this.broker.publish(event);
  }

  /**
   * Delivers to this node's members. `origin` is the local member the event
   * is about (the sender or the one who joined/left), if any.
   */
  private deliver(event: ChannelEvent, origin: Member | undefined): void {
    const members = this.channels.get(event.channel);
    if (!members) return;
    if (event.type === 'message') {
      for (const member of members) {
        if (member !== origin || member.echo) send(member, event.text);
      }
      return;
    }
    const notice = formatLine(event.type, event.channel, event.name);
    for (const member of members) {
      if (member.presence && member !== origin) send(member, notice);
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
        for (const text of history) member.recipient.send(text);
        for (const text of live) member.recipient.send(text);
      });
  }
}

function send(member: Member, text: string): void {
  if (member.pending) member.pending.push(text);
  else member.recipient.send(text);
}
