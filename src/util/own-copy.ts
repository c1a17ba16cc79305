/**
 * A copy of a short string that shares no memory with anything else. V8 makes
 * a substring (from split, slice, trim…) as a view into its parent, which then
 * stays alive as long as the substring: a 20-character channel name cut from a
 * 64 KB message would keep the 64 KB. Use it for short strings that are kept
 * long (map keys, names); it costs a copy, so not for message text.
 */
export function ownCopy(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}
