/**
 * A Twitch chat server double: IRC over WebSocket as dev.twitch.tv/docs/chat/irc
 * documents it, on a random local port. It answers CAP REQ with ACK, a login
 * with the welcome (001 … 376) or `NOTICE * :Login authentication failed` (then
 * closes, as Twitch does), JOIN with the JOIN echo, 353/366 and ROOMSTATE, and
 * records every line a client sent. LINES are the documented examples (the
 * `sub` and `announcement` ones are built from the documented tags of those kinds).
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';

/** Lines as Twitch sends them (dev.twitch.tv/docs/chat/irc and its tags reference). */
export const LINES = {
  privmsg: (channel: string) =>
    `@badge-info=;badges=broadcaster/1;client-nonce=28e05b1c83f1e916ca1710c44b014515;color=#0000FF;display-name=foofoo;emotes=62835:0-10;first-msg=0;flags=;id=f80a19d6-e35a-4273-82d0-cd87f614e767;mod=0;room-id=713936733;subscriber=0;tmi-sent-ts=1642696567751;turbo=0;user-id=713936733;user-type= :foofoo!foofoo@foofoo.tmi.twitch.tv PRIVMSG #${channel} :bleedPurple`,
  bits: (channel: string) =>
    `@badge-info=;badges=staff/1,bits/1000;bits=100;color=;display-name=ronni;emotes=;id=b34ccfc7-4977-403a-8a94-33c6bac34fb8;mod=0;room-id=12345678;subscriber=0;tmi-sent-ts=1507246572675;turbo=1;user-id=12345678;user-type=staff :ronni!ronni@ronni.tmi.twitch.tv PRIVMSG #${channel} :cheer100`,
  resub: (channel: string) =>
    `@badge-info=;badges=staff/1,broadcaster/1,turbo/1;color=#008000;display-name=ronni;emotes=;id=db25007f-7a18-43eb-9379-80131e44d633;login=ronni;mod=0;msg-id=resub;msg-param-cumulative-months=6;msg-param-streak-months=2;msg-param-should-share-streak=1;msg-param-sub-plan=Prime;msg-param-sub-plan-name=Prime;room-id=12345678;subscriber=1;system-msg=ronni\\shas\\ssubscribed\\sfor\\s6\\smonths!;tmi-sent-ts=1507246572675;turbo=1;user-id=87654321;user-type=staff :tmi.twitch.tv USERNOTICE #${channel} :Great stream -- keep it up!`,
  sub: (channel: string) =>
    `@badge-info=subscriber/0;badges=subscriber/0,premium/1;color=;display-name=new_viewer;emotes=;id=7f1a8ab8-0b8b-4f2c-9a7d-2c0f6b0c1d2e;login=new_viewer;mod=0;msg-id=sub;msg-param-cumulative-months=1;msg-param-months=0;msg-param-should-share-streak=0;msg-param-sub-plan=1000;msg-param-sub-plan-name=Channel\\sSubscription;room-id=12345678;subscriber=1;system-msg=new_viewer\\ssubscribed\\sat\\sTier\\s1.;tmi-sent-ts=1507246572675;turbo=0;user-id=11223344;user-type= :tmi.twitch.tv USERNOTICE #${channel}`,
  subgift: (channel: string) =>
    `@badge-info=;badges=staff/1,premium/1;color=#0000FF;display-name=TWW2;emotes=;id=e9176cd8-5e22-4684-ad40-ce53c2561c5e;login=tww2;mod=0;msg-id=subgift;msg-param-months=1;msg-param-recipient-display-name=Mr_Woodchuck;msg-param-recipient-id=55554444;msg-param-recipient-name=mr_woodchuck;msg-param-sub-plan-name=House\\sof\\sNyoro~n;msg-param-sub-plan=1000;room-id=19571752;subscriber=0;system-msg=TWW2\\sgifted\\sa\\sTier\\s1\\ssub\\sto\\sMr_Woodchuck!;tmi-sent-ts=1521159445153;turbo=0;user-id=87654321;user-type=staff :tmi.twitch.tv USERNOTICE #${channel}`,
  raid: (channel: string) =>
    `@badge-info=;badges=turbo/1;color=#9ACD32;display-name=TestChannel;emotes=;id=3d830f12-795c-447d-af3c-ea05e40fbddb;login=testchannel;mod=0;msg-id=raid;msg-param-displayName=TestChannel;msg-param-login=testchannel;msg-param-viewerCount=15;room-id=33332222;subscriber=0;system-msg=15\\sraiders\\sfrom\\sTestChannel\\shave\\sjoined\\n!;tmi-sent-ts=1507246572675;turbo=1;user-id=123456;user-type= :tmi.twitch.tv USERNOTICE #${channel}`,
  announcement: (channel: string) =>
    `@badge-info=;badges=broadcaster/1;color=#033700;display-name=Bar;emotes=;id=1d6d1b39-9b5b-4d25-8bc3-7e2a5b2f3c4d;login=bar;mod=0;msg-id=announcement;msg-param-color=PRIMARY;room-id=12345678;subscriber=0;system-msg=;tmi-sent-ts=1648758023469;turbo=0;user-id=12345678;user-type= :tmi.twitch.tv USERNOTICE #${channel} :Hello everyone!`,
  ping: 'PING :tmi.twitch.tv',
  reconnect: ':tmi.twitch.tv RECONNECT',
  loginFailed: ':tmi.twitch.tv NOTICE * :Login authentication failed',
};

export interface TwitchDoubleOptions {
  /** The token (without `oauth:`) that logs in; any other PASS fails the login. */
  token?: string;
}

/** One client connection, as the double saw it. */
export interface TwitchSession {
  socket: WebSocket;
  /** Every line the client sent, in order. */
  lines: string[];
  nick: string | undefined;
  joined: Set<string>;
}

export class TwitchDouble {
  readonly sessions: TwitchSession[] = [];
  private waiters: (() => void)[] = [];

  private constructor(
    private readonly server: WebSocketServer,
    readonly url: string,
    private readonly options: TwitchDoubleOptions,
  ) {
    server.on('connection', (socket) => this.accept(socket));
  }

  static async start(t: TestContext, options: TwitchDoubleOptions = {}): Promise<TwitchDouble> {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await once(server, 'listening');
    const double = new TwitchDouble(server, `ws://127.0.0.1:${(server.address() as AddressInfo).port}`, options);
    t.after(async () => {
      for (const client of server.clients) client.terminate();
      await new Promise((resolve) => server.close(resolve));
    });
    return double;
  }

  /** The sessions that joined `#channel` and are still open. */
  joinedTo(channel: string): TwitchSession[] {
    return this.sessions.filter((session) => session.joined.has(`#${channel}`) && session.socket.readyState === WebSocket.OPEN);
  }

  /** Sends a line to every open session that joined the channel (or to all open ones for `undefined`). */
  broadcast(line: string, channel?: string): void {
    for (const session of channel === undefined ? this.sessions : this.joinedTo(channel)) {
      if (session.socket.readyState === WebSocket.OPEN) session.socket.send(`${line}\r\n`);
    }
  }

  /** Waits (bounded) until `check` is true, re-checking whenever a client sends something or connects. */
  async until(check: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`the Twitch double never saw: ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** PRIVMSGs clients sent to the channel, over all sessions. */
  said(channel: string): string[] {
    return this.sessions.flatMap((session) => session.lines.filter((line) => line.startsWith(`PRIVMSG #${channel} :`)).map((line) => line.slice(`PRIVMSG #${channel} :`.length)));
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  private accept(socket: WebSocket): void {
    const session: TwitchSession = { socket, lines: [], nick: undefined, joined: new Set() };
    this.sessions.push(session);
    let pass: string | undefined;
    const send = (line: string) => socket.send(`${line}\r\n`);
    socket.on('message', (data) => {
      for (const line of String(data).split('\r\n')) {
        if (!line) continue;
        session.lines.push(line);
        const [command = '', ...rest] = line.split(' ');
        const argument = rest.join(' ');
        if (command === 'CAP' && argument.startsWith('REQ :')) send(`:tmi.twitch.tv CAP * ACK :${argument.slice(5)}`);
        else if (command === 'PASS') pass = argument;
        else if (command === 'NICK') this.login(session, argument, pass, send);
        else if (command === 'JOIN' && session.nick) {
          const nick = session.nick;
          session.joined.add(argument);
          send(`:${nick}!${nick}@${nick}.tmi.twitch.tv JOIN ${argument}`);
          send(`:${nick}.tmi.twitch.tv 353 ${nick} = ${argument} :${nick}`);
          send(`:${nick}.tmi.twitch.tv 366 ${nick} ${argument} :End of /NAMES list`);
          send(`@emote-only=0;followers-only=-1;r9k=0;room-id=12345678;slow=0;subs-only=0 :tmi.twitch.tv ROOMSTATE ${argument}`);
        }
      }
      this.wake();
    });
    this.wake();
  }

  private login(session: TwitchSession, nick: string, pass: string | undefined, send: (line: string) => void): void {
    const anonymous = /^justinfan\d+$/.test(nick) && pass === undefined;
    const accepted = anonymous || (this.options.token !== undefined && pass === `oauth:${this.options.token}`);
    if (!accepted) {
      send(LINES.loginFailed);
      session.socket.close();
      return;
    }
    session.nick = nick;
    send(`:tmi.twitch.tv 001 ${nick} :Welcome, GLHF!`);
    send(`:tmi.twitch.tv 002 ${nick} :Your host is tmi.twitch.tv`);
    send(`:tmi.twitch.tv 003 ${nick} :This server is rather new`);
    send(`:tmi.twitch.tv 004 ${nick} :-`);
    send(`:tmi.twitch.tv 375 ${nick} :-`);
    send(`:tmi.twitch.tv 372 ${nick} :You are in a maze of twisty passages, all alike.`);
    send(`:tmi.twitch.tv 376 ${nick} :>`);
  }
}
