/** Turns a failed listen() into a message that says what to do, not a stack trace. */
export class ListenError extends Error {
  override name = 'ListenError';
}

export function explainListenError(error: NodeJS.ErrnoException, host: string, port: number): ListenError {
  const next = port === 65535 ? 8779 : port + 1;
  switch (error.code) {
    case 'EADDRINUSE':
      return new ListenError(
        `Port ${port} is already in use on ${host}: another program (maybe another resobridge) is listening there. ` +
          `Stop that program, or pick another port: --port ${next} (or RESOBRIDGE_PORT=${next}, or "port: ${next}" in your config file).`,
      );
    case 'EACCES':
      return new ListenError(
        `Not allowed to listen on port ${port}${port < 1024 ? ' (ports below 1024 need administrator rights)' : ''}. ` +
          'Pick another port, e.g. --port 8778.',
      );
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ListenError(
        `Cannot listen on ${host}: it is not an address of this machine. ` +
          'Use --host 127.0.0.1 (this machine only), or --host 0.0.0.0 (reachable from your network; with tokens, or --allow-anonymous on a trusted home network).',
      );
    default:
      return new ListenError(`Cannot listen on ${host}:${port}: ${error.message}`);
  }
}
