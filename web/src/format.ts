/** How numbers and times read on the page. */

export const count = (n: number): string => n.toLocaleString('en-US');

/** 3 s, 5 min, 2 h 10 min, 3 d 4 h */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 24) return `${h} h ${min % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** "12 s ago", or "never" for 0. */
export const ago = (time: number, now: number): string => (time === 0 ? 'never' : `${duration(now - time)} ago`);

export const clock = (time: number): string => new Date(time).toLocaleTimeString('en-GB', { hour12: false });
