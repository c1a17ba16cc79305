/**
 * A message from the server: a tag, optionally the id of the request it
 * answers, and named fields. Encoded as a line for worlds (`value#7|score|42`)
 * or as JSON for apps that asked for `?format=json`
 * (`{"type":"value","id":"7","key":"score","value":42}`). Each encoding is made
 * at most once per message, however many connections receive it.
 */
import { formatLine } from './line.js';
import { TextFrame } from './text-frame.js';
import { assertFinite, formatValue, Vector, type Value } from './values.js';

export type Encoding = 'line' | 'json';
export type FieldValue = Value | readonly Value[];

export class Message {
  private encoded: Partial<Record<Encoding, string>> = {};
  private frames: Partial<Record<Encoding, TextFrame>> = {};

  constructor(
    readonly tag: string,
    readonly fields: readonly (readonly [name: string, value: FieldValue])[] = [],
    readonly id?: string,
  ) {
    // Checked when the message is made (inside a command's handler), not when it is encoded for sending.
    for (const [, value] of fields) {
      if (typeof value === 'number' || value instanceof Vector) assertFinite(value);
      else if (Array.isArray(value)) (value as readonly Value[]).forEach(assertFinite);
    }
  }

  /** A message with unnamed fields (from a custom command): `tag|a|b`, or JSON `{"type":tag,"fields":[a,b]}`. */
  static of(tag: string, values: readonly Value[]): Message {
    return new Message(tag, values.length > 0 ? [['fields', values]] : []);
  }

  /** The same message as the reply to request `id`. */
  withId(id: string | undefined): Message {
    return id === undefined ? this : new Message(this.tag, this.fields, id);
  }

  encode(encoding: Encoding): string {
    return (this.encoded[encoding] ??= encoding === 'json' ? this.toJson() : this.toLine());
  }

  /** The encoded bytes, made once however many clients receive them. */
  frame(encoding: Encoding): TextFrame {
    return (this.frames[encoding] ??= TextFrame.of(this.encode(encoding)));
  }

  private toLine(): string {
    const values = this.fields.flatMap(([, value]) => (Array.isArray(value) ? value : [value]) as Value[]);
    return formatLine(this.id === undefined ? this.tag : `${this.tag}#${this.id}`, ...values.map(formatValue));
  }

  private toJson(): string {
    const object: Record<string, unknown> = { type: this.tag };
    if (this.id !== undefined) object.id = this.id;
    for (const [name, value] of this.fields) object[name] = Array.isArray(value) ? value.map(jsonValue) : jsonValue(value as Value);
    return JSON.stringify(object);
  }
}

function jsonValue(value: Value): unknown {
  if (value instanceof Vector) return value.toString();
  if (typeof value === 'bigint') return value.toString();
  return value;
}
