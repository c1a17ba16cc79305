/**
 * The Hub's history replay against a cluster broker: a message from another
 * node may reach both the stored history and this node's live feed while the
 * replay is under way; the member gets it once, and in order.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChannelMessage } from '../src/hub/broker.js';
import { Hub, type Recipient } from '../src/hub/hub.js';
import { MemoryBroker } from '../src/hub/memory-broker.js';
import type { TextFrame } from '../src/protocol/text-frame.js';

/** A broker whose history answers only when the test says so, as a remote one does. */
class SlowHistoryBroker extends MemoryBroker {
  answer: (history: ChannelMessage[]) => void = () => {};

  override history(): Promise<ChannelMessage[]> {
    return new Promise((resolve) => (this.answer = resolve));
  }
}

const remote = (text: string, id: string): ChannelMessage => ({ type: 'message', channel: 'c', senderName: 'far', text, id });

test('a remote message that the replay already had is not sent again; the rest follow it in order', () => {
  const broker = new SlowHistoryBroker(100);
  const hub = new Hub(broker);
  const got: string[] = [];
  const recipient: Recipient = {
    name: 'late',
    encoding: 'line',
    send: (text: string | TextFrame) => (got.push(typeof text === 'string' ? text : text.bytes.toString()), true),
  };
  hub.join('c', recipient, { relay: true, echo: false, presence: false, history: 10 });
  // Live while the history is read: one the stored history has too, one it has not, one local.
  broker.onRemoteEvent(remote('two', 'n1:2'));
  broker.onRemoteEvent(remote('three', 'n1:3'));
  hub.publish({ type: 'message', channel: 'c', senderName: 'near', text: 'local' });
  assert.deepEqual(got, [], 'held back until the replay');
  broker.answer([remote('one', 'n1:1'), remote('two', 'n1:2')]);
  return new Promise<void>((resolve) =>
    setImmediate(() => {
      assert.deepEqual(got, ['one', 'two', 'three', 'local']);
      resolve();
    }),
  );
});
