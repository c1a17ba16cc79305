/**
 * Secrets in bridge settings (passwords, tokens): best kept out of the config
 * file, as a reference to an environment variable or a file:
 *
 *   password: { env: OBS_PASSWORD }
 *   token: { file: /run/secrets/ha-token }      # its first line; surrounding whitespace is trimmed
 *   password: "hunter2"                          # also accepted, but the config file then holds it
 *
 * The value is read once, at start-up, into a Secret that prints as
 * "[secret]": a log line, /healthz, the dashboard or an error that carries
 * the object by mistake shows nothing of it.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../config/errors.js';

export const SECRET = z.union([
  z.string().min(1, 'the secret is empty'),
  z.object({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'env is the name of an environment variable, e.g. OBS_PASSWORD') }).strict(),
  z.object({ file: z.string().min(1, 'file is a path') }).strict(),
], { error: 'a secret is a string, { env: NAME_OF_A_VARIABLE } or { file: /path/to/it }' });
export type SecretRef = z.infer<typeof SECRET>;

export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The value itself: only for the app it is meant for. */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return '[secret]';
  }

  toJSON(): string {
    return '[secret]';
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[secret]';
  }
}

/** Reads a secret; `where` names it in the error (e.g. `bridge "obs": password`), which never holds the value. */
export function readSecret(ref: SecretRef, where: string, env: NodeJS.ProcessEnv = process.env): Secret {
  if (typeof ref === 'string') return new Secret(ref);
  if ('env' in ref) {
    const value = env[ref.env];
    if (!value) throw new ConfigError(`${where}: the environment variable ${ref.env} is not set (or empty). Set it before starting, e.g. ${ref.env}=… npm start`);
    return new Secret(value);
  }
  let text: string;
  try {
    text = readFileSync(ref.file, 'utf8');
  } catch (error) {
    throw new ConfigError(`${where}: cannot read the file ${ref.file} (${(error as NodeJS.ErrnoException).code ?? 'error'}). Check the path and that this user may read it.`);
  }
  const value = text.split(/\r?\n/, 1)[0]?.trim() ?? '';
  if (!value) throw new ConfigError(`${where}: the file ${ref.file} is empty; put the secret on its first line.`);
  return new Secret(value);
}

/**
 * Header values, read from the config, the environment or files. A line break or another control
 * character would split the request (or fail in fetch with an error that quotes the value): refused here.
 */
export function readHeaders(headers: Record<string, SecretRef>, where: string): Record<string, Secret> {
  return Object.fromEntries(
    Object.entries(headers).map(([header, ref]) => {
      const value = readSecret(ref, `${where}: headers.${header}`);
      // eslint-disable-next-line no-control-regex -- control characters are exactly what a header value may not hold
      if (/[\0-\x08\x0a-\x1f\x7f]/.test(value.reveal())) {
        throw new ConfigError(`${where}: headers.${header}: the value holds a line break or another control character, which a header cannot carry; remove it (a file's first line is used, trimmed)`);
      }
      return [header, value];
    }),
  );
}
