/**
 * The command registry: built-in verbs and custom ones are registered the
 * same way, so they parse, validate, reply and appear in `help` alike.
 */
import { clip } from '../protocol/clip.js';
import type { Message } from '../protocol/message.js';
import { RequestError } from '../protocol/request-error.js';
import type { Request } from '../protocol/request.js';
import type { Value } from '../protocol/values.js';
import type { Arg, ArgValues, Args } from './args.js';
import type { ConnectionContext } from './client.js';

export interface CommandContext extends ConnectionContext {
  /** The verb being handled. */
  readonly verb: string;
  /** The request id (`verb#id`), if the client sent one. */
  readonly id: string | undefined;
  /** Answers this request; the reply carries the request id. */
  reply(message: Message): void;
  reply(tag: string, ...values: Value[]): void;
}

/** What a handler may return: nothing (it replied itself), a Message, or `[tag, ...values]`. */
export type Reply = void | Message | readonly [string, ...Value[]];

export interface CommandSpec<S extends Args = Args> {
  /** One line for `help|<verb>`. */
  help: string;
  /** The fields, in order; see `arg`. */
  args?: S;
  handler(args: ArgValues<S>, context: CommandContext): Reply | Promise<Reply>;
}

const VERB = /^[a-z][a-z0-9_.-]{0,31}$/;

export class Commands {
  private readonly specs = new Map<string, CommandSpec>();

  register<S extends Args>(verb: string, spec: CommandSpec<S>): void {
    if (!VERB.test(verb)) {
      throw new Error(`Command name "${verb}" is not allowed: use 1 to 32 lower-case letters, digits, dots, dashes or underscores, starting with a letter.`);
    }
    if (this.specs.has(verb)) throw new Error(`Command "${verb}" is registered already.`);
    this.specs.set(verb, spec as unknown as CommandSpec);
  }

  /** Verbs in registration order: built-ins first, then custom ones. */
  verbs(): string[] {
    return [...this.specs.keys()];
  }

  has(verb: string): boolean {
    return this.specs.has(verb);
  }

  /** How to write it: `set|<key>|<value>`; optional fields in brackets. */
  syntax(verb: string): string {
    const fields = Object.entries(this.specs.get(verb)?.args ?? {}).map(([name, a]) => (a.required ? `<${name}>` : `[${name}]`));
    return [verb, ...fields].join('|');
  }

  /** `set|<key>|<value>: stores value under key`. */
  usage(verb: string): string {
    return `${this.syntax(verb)}: ${this.specs.get(verb)?.help ?? ''}`;
  }

  /** Runs a request; throws RequestError for an unknown verb or bad fields, or whatever the handler throws. */
  async run(request: Request, context: CommandContext): Promise<void> {
    const spec = this.specs.get(request.verb);
    if (!spec) throw new RequestError(`unknown command "${clip(request.verb)}"; send help for the list of commands`);
    const args = request.named ? this.fromNamed(request.verb, spec, request.named) : this.fromFields(request.verb, spec, request.fields ?? []);
    const reply = await spec.handler(args, context);
    if (reply === undefined) return;
    if (Array.isArray(reply)) {
      const [tag, ...values] = reply as readonly [string, ...Value[]];
      context.reply(tag, ...values);
    } else {
      context.reply(reply as Message);
    }
  }

  private fromFields(verb: string, spec: CommandSpec, fields: string[]): ArgValues<Args> {
    const entries = Object.entries(spec.args ?? {});
    const last = entries.at(-1)?.[1];
    if (fields.length > entries.length && !last?.isRest) {
      throw new RequestError(
        `too many fields (${fields.length}); send ${this.syntax(verb)} and escape a | inside a field as %7C`,
      );
    }
    const values: Record<string, unknown> = {};
    entries.forEach(([name, a], index) => {
      const text = a.isRest && index === entries.length - 1 ? fields.slice(index).join('|') : fields[index];
      values[name] = this.read(verb, name, a, index < fields.length ? text : undefined);
    });
    return values as ArgValues<Args>;
  }

  private fromNamed(verb: string, spec: CommandSpec, named: Record<string, unknown>): ArgValues<Args> {
    const args = spec.args ?? {};
    const unknown = Object.keys(named).find((name) => !Object.hasOwn(args, name));
    if (unknown !== undefined) {
      const known = Object.keys(args);
      throw new RequestError(`unknown property "${clip(unknown)}"; ${verb} takes ${known.length > 0 ? known.join(', ') : 'no properties'}`);
    }
    const values: Record<string, unknown> = {};
    for (const [name, a] of Object.entries(args)) values[name] = this.read(verb, name, a, named[name]);
    return values as ArgValues<Args>;
  }

  private read(verb: string, name: string, a: Arg<unknown>, value: unknown): unknown {
    const absent = value === undefined || value === null || (value === '' && !a.required);
    if (absent) {
      if (a.required) throw new RequestError(`${name} is missing; send ${this.syntax(verb)}`);
      return a.fallback;
    }
    const parsed = a.parse(value);
    if (!parsed.ok) throw new RequestError(`${name} must be ${a.allowed} (got ${preview(value)})`);
    return parsed.value;
  }
}

/** A bad value, shown briefly and safely (it may be huge or deeply nested). */
function preview(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object' && value !== null) return 'an object';
  const text = JSON.stringify(value) ?? String(value);
  return clip(text);
}
