/**
 * The ProtoFlux recipes as C# (test/dotnet/Recipes.cs), run in a mono process: each recipe of the
 * docs, with the .NET string methods the stock nodes wrap, in the culture a test names.
 */
import type { TestContext } from 'node:test';
import { MonoProgram } from './dotnet.js';

const encode = (text: string) => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
const decode = (text: string) =>
  text.replace(/\\(.)/g, (_all, next: string) => (next === 'n' ? '\n' : next === 'r' ? '\r' : next === 't' ? '\t' : next));

export type Culture = 'en-US' | 'de-DE' | 'fr-FR';
export const CULTURES: readonly Culture[] = ['en-US', 'de-DE', 'fr-FR'];

export class RecipeRunner extends MonoProgram {
  static begin(t: TestContext): RecipeRunner {
    return new RecipeRunner(MonoProgram.spawn(t, 'Recipes'));
  }

  private async ask(...fields: string[]): Promise<string[]> {
    const answer = (await this.command(fields.map(encode).join('\t'))).split('\t').map(decode);
    if (answer[0] === 'error') throw new Error(`Recipes.cs failed on ${JSON.stringify(fields)}: ${answer[1]}`);
    return answer;
  }

  /** The ids of the recipes Recipes.cs has. */
  async ids(): Promise<string[]> {
    return this.ask('list');
  }

  /** The recipe's outputs, or undefined when its branch does not fire on `data`. */
  async run(culture: Culture, id: string, data: string, arg = ''): Promise<string[] | undefined> {
    const [fires, ...outputs] = await this.ask('run', culture, id, data, arg);
    return fires === 'fires' ? outputs : undefined;
  }

  /** What a Parse node (int, long, float, double, float3) reads from `text`; undefined when it does not parse. */
  async parse(culture: Culture, type: string, text: string): Promise<string | undefined> {
    const [state, value] = await this.ask('parse', culture, type, text);
    if (state === 'disagree') throw new Error(`the local and invariant readings of ${JSON.stringify(text)} as ${type} in ${culture} differ: ${value}`);
    return state === 'parsed' ? value : undefined;
  }

  /** What EscapeUriDataString gives. */
  async escape(text: string): Promise<string> {
    return (await this.ask('escape', text))[0] ?? '';
  }
}
