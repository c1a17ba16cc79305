/**
 * How many sockets the server may hold, from maxConnections and the
 * process's open-file limit (RLIMIT_NOFILE): every socket is a file
 * descriptor, and a process out of descriptors cannot accept anything, not
 * even /healthz, nor open its store. Node raises the soft limit to the hard
 * one at start; what is left is read here (Linux: /proc/self/limits; other
 * systems: not checked).
 */
import { readFileSync } from 'node:fs';

export interface SocketBudget {
  /** WebSocket connections in total (maxConnections, lowered to fit the limit). */
  webSockets: number;
  /** TCP sockets in total (Node's server.maxConnections): WebSockets plus room for handshakes and HTTP requests. */
  sockets: number;
  /** Set when maxConnections did not fit: what to tell the operator. */
  warning?: string;
}

/** The soft limit on open files, or undefined where it cannot be read (or is unlimited). */
export function openFileLimit(): number | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const match = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

export function socketBudget(maxConnections: number, fileLimit: number | undefined): SocketBudget {
  /** Room for non-WebSocket sockets: handshakes in progress, /healthz, the HTTP API, the dashboard. */
  const headroom = (sockets: number) => Math.max(16, Math.ceil(sockets / 16));
  const wanted = maxConnections + headroom(maxConnections);
  if (fileLimit === undefined) return { webSockets: maxConnections, sockets: wanted };
  // Descriptors the process needs besides client sockets: the store, the broker, bridges, logs, the listening socket.
  const fit = Math.max(1, fileLimit - Math.min(256, Math.ceil(fileLimit / 8)));
  if (wanted <= fit) return { webSockets: maxConnections, sockets: wanted };
  const sockets = fit;
  const webSockets = Math.max(1, sockets - headroom(sockets));
  return {
    webSockets,
    sockets,
    warning:
      `maxConnections is ${maxConnections}, but this process may open only ${fileLimit} files (ulimit -n), one per socket: ` +
      `accepting at most ${webSockets} WebSocket connections and ${sockets} sockets in all, so /healthz and new handshakes still get through. ` +
      'Raise the limit (ulimit -n, or LimitNOFILE= in a systemd unit) or lower maxConnections.',
  };
}
