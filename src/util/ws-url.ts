/** The WebSocket scheme each accepted scheme stands for: a web page's http:// means ws://. */
export const WEBSOCKET_SCHEME: Readonly<Record<string, string>> = { 'http:': 'ws:', 'https:': 'wss:', 'ws:': 'ws:', 'wss:': 'wss:' };

/** True when the text starts with a scheme (`ws://`, `http://`, …). */
export const hasScheme = (text: string): boolean => /^[a-z][a-z0-9+.-]*:\/\//i.test(text);

/** The ws:// (or wss://) URL someone meant by `text`, e.g. `http://host/echo` → `ws://host/echo`; undefined if there is none. */
export function websocketUrlFor(text: string): string | undefined {
  if (!hasScheme(text)) return websocketUrlFor(`ws://${text.replace(/^\/+/, '')}`);
  try {
    const url = new URL(text);
    const scheme = WEBSOCKET_SCHEME[url.protocol];
    if (!scheme) return undefined;
    url.protocol = scheme;
    return url.toString();
  } catch {
    return undefined;
  }
}
