/**
 * The URLs people paste into Resonite. One place builds them, for the startup
 * banner, the 426/404 pages and the docs' examples alike.
 */
import { networkInterfaces } from 'node:os';
import type { AddressInfo } from 'node:net';
import type { Endpoint } from './endpoint.js';

const LOOPBACK = new Set(['::1', '[::1]', 'localhost', '::ffff:127.0.0.1']);
/** 127.0.0.0/8 written as an address; a name that merely starts with 127. (127.example.com) is not loopback. */
const LOOPBACK_V4 = /^127(\.\d{1,3}){3}$/;
const WILDCARD = new Set(['0.0.0.0', '::', '']);

export const isLoopback = (host: string): boolean => LOOPBACK.has(host) || LOOPBACK_V4.test(host);
export const isWildcard = (host: string): boolean => WILDCARD.has(host);

export interface EndpointUrl {
  url: string;
  example: string;
  summary: string;
}

/** `ws://host:port` (or `wss://`) for the given host, with IPv6 addresses in brackets. */
export function wsBase(host: string, port: number, secure = false): string {
  return `${secure ? 'wss' : 'ws'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Base URLs that reach a server bound to `host`: localhost, plus this machine's LAN addresses when bound to all. */
export function reachableBases(host: string, address: AddressInfo, secure = false): { base: string; lan: boolean }[] {
  if (isLoopback(host)) return [{ base: wsBase('localhost', address.port, secure), lan: false }];
  if (!isWildcard(host)) return [{ base: wsBase(host, address.port, secure), lan: !isLoopback(host) }];
  const lan = Object.values(networkInterfaces())
    .flat()
    .filter((info) => info && !info.internal && info.family === 'IPv4')
    .map((info) => ({ base: wsBase(info?.address ?? '', address.port, secure), lan: true }));
  return [{ base: wsBase('localhost', address.port, secure), lan: false }, ...lan];
}

export function endpointUrls(base: string, endpoints: readonly Endpoint[]): EndpointUrl[] {
  return endpoints.map((endpoint) => ({
    url: base + endpoint.path,
    example: base + endpoint.example,
    summary: endpoint.summary,
  }));
}
