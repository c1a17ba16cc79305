/** wss://: the certificate and key (PEM files), read at start and again on reload (SIGHUP), without dropping connections. */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config/errors.js';

export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
}

export function readTls(certPath: string, keyPath: string): TlsFiles | undefined {
  if (!certPath && !keyPath) return undefined;
  if (!certPath || !keyPath) {
    throw new ConfigError('For wss:// give both --tls-cert and --tls-key (PEM files), or neither for plain ws://.');
  }
  const read = (path: string, what: string) => {
    try {
      return readFileSync(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new ConfigError(`Cannot read the TLS ${what} ${path}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}.`);
    }
  };
  return { cert: read(certPath, 'certificate'), key: read(keyPath, 'key') };
}
