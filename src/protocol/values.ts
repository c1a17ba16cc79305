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

/**
 * Invariant-culture number text, as Resonite's float/int Parse nodes read it in every culture:
 * digits, an optional `-` and `.`, never exponent notation (a German user's Parse reads `1.5e-7` as
 * 1.5E-06), never `-0`. Non-finite numbers cannot be written: Message refuses them (assertFinite).
 */
export function formatNumber(value: number): string {
  if (value === 0) return '0';
  const text = String(value);
  return text.includes('e') ? expandExponent(text) : text;
}

/**
 * A float32 (an OSC `f` argument, which arrives widened to a double: 0.1 comes as 0.10000000149011612)
 * at float32 precision: the shortest decimal that reads back as the same float32.
 */
export function formatFloat32(value: number): string {
  const single = Math.fround(value);
  for (let digits = 1; digits < 9; digits++) {
    const shortest = Number(single.toPrecision(digits));
    if (Math.fround(shortest) === single) return formatNumber(shortest);
  }
  return formatNumber(single);
}

/** `1.5e-7` → `0.00000015`, `1e+21` → `1000000000000000000000`: the same digits, the point moved. */
function expandExponent(text: string): string {
  const [mantissa = '', exponentText = '0'] = text.split('e');
  const negative = mantissa.startsWith('-');
  const [whole = '', fraction = ''] = (negative ? mantissa.slice(1) : mantissa).split('.');
  const digits = whole + fraction;
  const point = whole.length + Number(exponentText);
  const expanded =
    point <= 0 ? `0.${'0'.repeat(-point)}${digits}` : point >= digits.length ? digits + '0'.repeat(point - digits.length) : `${digits.slice(0, point)}.${digits.slice(point)}`;
  return negative ? `-${expanded}` : expanded;
}

/** Throws if a value holds NaN or ±Infinity, which no Parse node reads: the caller's error, caught where it can be told. */
export function assertFinite(value: Value): void {
  if (typeof value === 'number' ? !Number.isFinite(value) : value instanceof Vector && !value.components.every(Number.isFinite)) {
    throw new RangeError(`${String(value)} is not a finite number: Resonite cannot parse it; send a finite number (or text)`);
  }
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
