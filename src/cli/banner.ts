/** The startup banner: the exact URLs to paste into Resonite, and what `localhost` means there. */
import type { AddressInfo } from 'node:net';
import { stateLabel } from '../bridges/bridge.js';
import type { ResobridgeServer } from '../server/create-server.js';
import { endpointUrls, isLoopback, reachableBases } from '../server/urls.js';
import { VERSION } from '../version.js';
import { networkHint } from './network-advice.js';

export function bannerText(server: ResobridgeServer, address: AddressInfo, serveArgs: readonly string[] = []): string {
  const { host } = server.config;
  const bases = reachableBases(host, address, server.secure);
  const local = bases.filter((b) => !b.lan);
  const lan = bases.filter((b) => b.lan);
  const lines = [`resobridge ${VERSION} is running on ${host}:${address.port}.`, ''];

  if (local.length > 0) {
    lines.push('Paste one of these into the URL field of a WebsocketClient in Resonite:');
    for (const { base } of local) lines.push(...urlLines(server, base));
    lines.push(
      '',
      '"localhost" means the HandlingUser\'s own machine: set the WebsocketClient\'s HandlingUser',
      'to the person who runs this server, on this computer.',
    );
  }
  if (lan.length > 0) {
    lines.push('', `From other machines on your network (if the firewall allows port ${address.port}):`);
    for (const { base } of lan) lines.push(...urlLines(server, base));
  }
  const bridges = server.bridges();
  if (bridges.length > 0) {
    lines.push('', 'Bridges:');
    for (const bridge of bridges) lines.push(`  ${bridge.type} ${bridge.name}: ${stateLabel(bridge.state)}, ${bridge.detail}`);
  }
  if (isLoopback(host)) {
    lines.push('', 'Only this computer can connect.', ...networkHint(serveArgs));
  }
  const httpBase = (local[0] ?? lan[0])?.base.replace(/^ws/, 'http') ?? '';
  const { dashboard } = server;
  if (dashboard.state === 'open') lines.push('', `Dashboard: ${httpBase}/  (open it in a browser on this computer)`);
  else if (dashboard.state === 'token') lines.push('', `Dashboard: ${httpBase}/  (asks for the admin token)`);
  else if (server.config.dashboard) lines.push('', dashboard.reason ?? '');
  if (server.config.mcp) lines.push('', `MCP for AI agents: ${httpBase}/mcp  (docs/agents.md)`);
  lines.push('', `Health check: ${httpBase}/healthz    Stop: Ctrl+C`, '');
  return lines.join('\n');
}

function urlLines(server: ResobridgeServer, base: string): string[] {
  const urls = endpointUrls(base, server.endpoints);
  const width = Math.max(...urls.map(({ url }) => url.length)) + 2;
  return urls.flatMap(({ url, example, summary }) => {
    const first = `  ${url.padEnd(width)}${summary}`;
    return example === url ? [first] : [first, `  ${''.padEnd(width)}e.g. ${example}`];
  });
}

/** The same URLs as data, for JSON logs. */
export function bannerUrls(server: ResobridgeServer, address: AddressInfo): string[] {
  return reachableBases(server.config.host, address, server.secure).flatMap(({ base }) =>
    endpointUrls(base, server.endpoints).map(({ url }) => url),
  );
}
