/**
 * Reads a program's output as text lines, within limits: a line over the
 * size limit or with bytes that are not UTF-8 text becomes a described
 * error, never a frame of garbage.
 */
import type { Readable } from 'node:stream';
import { isUtf8 } from 'node:buffer';

export type Line = { text: string } | { problem: string };

export function readLines(stream: Readable, maxBytes: number, onLine: (line: Line) => void): void {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let overflow = false;
  const emit = (bytes: Buffer) => {
    const line = bytes.at(-1) === 0x0d ? bytes.subarray(0, -1) : bytes; // CRLF from Windows programs
    if (!isUtf8(line) || line.includes(0)) {
      onLine({ problem: `the program wrote ${line.length} bytes of binary data; only text lines are sent` });
    } else {
      onLine({ text: line.toString('utf8') });
    }
  };
  stream.on('data', (chunk: Buffer) => {
    let start = 0;
    for (let end = chunk.indexOf(0x0a); end >= 0; end = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, end);
      if (overflow || pendingBytes + piece.length > maxBytes) {
        onLine({ problem: `the program wrote a line over ${maxBytes} bytes; it was dropped` });
      } else {
        emit(pending.length > 0 ? Buffer.concat([...pending, piece]) : piece);
      }
      pending = [];
      pendingBytes = 0;
      overflow = false;
      start = end + 1;
    }
    const rest = chunk.subarray(start);
    if (rest.length === 0) return;
    if (overflow || pendingBytes + rest.length > maxBytes) {
      overflow = true;
      pending = [];
      pendingBytes = 0;
      return;
    }
    pending.push(rest);
    pendingBytes += rest.length;
  });
  stream.on('end', () => {
    if (pendingBytes > 0 && !overflow) emit(Buffer.concat(pending));
  });
}
