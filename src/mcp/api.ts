/**
 * What the MCP tools need of a resobridge server: the HTTP API's operations,
 * answered as the API answers them (a status and a JSON body, or a key's value
 * as text). `resobridge mcp` reaches a server over HTTP (http-client.ts); the
 * server's own /mcp endpoint calls its operations with the caller's token
 * (local-api.ts). Either way the token's scopes decide.
 */

export interface Answer {
  status: number;
  body: Record<string, unknown> | string;
}

export interface ResobridgeApi {
  channels(): Promise<Answer>;
  members(channel: string): Promise<Answer>;
  history(channel: string, limit: number): Promise<Answer>;
  /** Waits up to `seconds` for the channel's next message; `signal` gives up early. */
  next(channel: string, seconds: number, signal: AbortSignal): Promise<Answer>;
  publish(channel: string, text: string, name: string | undefined): Promise<Answer>;
  getKey(ns: string, key: string): Promise<Answer>;
  setKey(ns: string, key: string, value: string): Promise<Answer>;
  deleteKey(ns: string, key: string): Promise<Answer>;
  listKeys(ns: string, prefix: string): Promise<Answer>;
  connections(): Promise<Answer>;
}

/** The server could not be reached at all; the message says what to check. */
export class Unreachable extends Error {
  override name = 'Unreachable';
}
