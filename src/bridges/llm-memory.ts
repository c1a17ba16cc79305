/**
 * What a language model remembers of a conversation: the last question/answer
 * turns, sent again with each new question (chat completions are stateless).
 * Bounded three ways: turns per conversation, characters per conversation
 * (the oldest turns go first), and conversations (the one unused longest goes).
 */

export interface Turn {
  question: string;
  answer: string;
}

export interface MemoryLimits {
  /** Turns kept per conversation; 0 remembers nothing. */
  turns: number;
  /** Characters (questions and answers together) kept per conversation. */
  chars: number;
  /** Conversations kept at once. */
  conversations: number;
}

export class Conversations {
  /** In order of last use: the first is the one unused longest. */
  private readonly byKey = new Map<string, Turn[]>();

  constructor(private readonly limits: MemoryLimits) {}

  get size(): number {
    return this.byKey.size;
  }

  /** The turns remembered under `key`, oldest first. */
  recall(key: string): readonly Turn[] {
    const turns = this.byKey.get(key);
    if (!turns) return [];
    this.byKey.delete(key);
    this.byKey.set(key, turns);
    return turns;
  }

  remember(key: string, turn: Turn): void {
    const turns = this.byKey.get(key) ?? [];
    this.byKey.delete(key);
    turns.push(turn);
    let chars = turns.reduce((sum, { question, answer }) => sum + question.length + answer.length, 0);
    while (turns.length > this.limits.turns || (turns.length > 0 && chars > this.limits.chars)) {
      const oldest = turns.shift() as Turn;
      chars -= oldest.question.length + oldest.answer.length;
    }
    if (turns.length === 0) return;
    this.byKey.set(key, turns);
    for (const oldest of this.byKey.keys()) {
      if (this.byKey.size <= this.limits.conversations) break;
      this.byKey.delete(oldest);
    }
  }

  forget(key: string): void {
    this.byKey.delete(key);
  }

  clear(): void {
    this.byKey.clear();
  }
}
