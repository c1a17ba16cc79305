/**
 * The UTF-8 bytes of one text message, encoded once and sent to any number
 * of clients (ws writes the same Buffer to each socket instead of encoding
 * the string again per recipient). It can only be made from a string, so it
 * is always valid text: Connection still sends text frames only.
 */
export class TextFrame {
  private constructor(readonly bytes: Buffer) {}

  static of(text: string): TextFrame {
    return new TextFrame(Buffer.from(text, 'utf8'));
  }

  /** The text again (for the dashboard; not on the send path). */
  get text(): string {
    return this.bytes.toString('utf8');
  }
}
