/**
 * Values in the forms Resonite's Parse nodes read: numbers in invariant
 * culture (`.` as the decimal point), booleans as `true`/`false`, vectors and
 * colors as the engine's literals `[x;y;z]` / `[r;g;b;a]`. The TypeScript side
 * never formats these by hand.
 */

export class Vector {
  readonly components: readonly number[];
  constructor(...components: number[]) {
    this.components = components;
  }
  toString(): string {
    return `[${this.components.map(formatNumber).join(';')}]`;
  }
}

/** A float2/float3/float4 (or int vector) literal: `vec(1, 2.5, 3)` → `[1;2.5;3]`. */
export const vec = (...components: number[]): Vector => new Vector(...components);
/** A color literal (components 0 to 1): `color(1, 0, 0)` → `[1;0;0;1]`. */
export const color = (r: number, g: number, b: number, a = 1): Vector => new Vector(r, g, b, a);

export type Value = string | number | boolean | bigint | Vector;

/** Invariant-culture number text, as Resonite's float/int Parse nodes read it. */
export function formatNumber(value: number): string {
  if (Object.is(value, -0)) return '0';
  return String(value);
}

export function formatValue(value: Value): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      return formatNumber(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    default:
      return value.toString();
  }
}
