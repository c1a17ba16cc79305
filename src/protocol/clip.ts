/**
 * Client input quoted back in an error message, cut short: an error names
 * what was wrong, it does not carry a client's 15 KB back to it (or into logs).
 */
export const CLIP_CHARS = 64;

export function clip(text: string, max = CLIP_CHARS): string {
  if (text.length <= max) return text;
  // Not between the two halves of a surrogate pair.
  const end = /[\uD800-\uDBFF]/.test(text.charAt(max - 1)) ? max - 1 : max;
  return `${text.slice(0, end)}…`;
}
