/**
 * Several nodes on one broker behave as one server: relay, presence, member
 * lists, history and watched keys across nodes; a killed node's members
 * leave; a broker outage leaves local service running and heals after.
 * Every test runs over Redis and over NATS, with real server processes.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ENGINES, eventually, membersEverywhere, nextMatching, ownBroker, startCluster, startNodes, watching } from './cluster-helpers.js';
import { runCli } from './helpers.js';
import { POSTGRES_URL, skipUnless } from './services.js';

for (const engine of ENGINES) {
  describe(`cluster over ${engine.name}`, async () => {
    const skip = await skipUnless(engine.name, engine.port);
    const skipPostgres = skip || (await skipUnless('PostgreSQL', 5432));

    test('relay reaches every other node once, in each sender\'s order, and never its sender', { skip }, async (t) => {
      const nodes = await startCluster(t, engine, 'relay', 3);
      const names = ['A', 'B', 'C'];
      const clients = await Promise.all(nodes.map((node, i) => node.connect(`/channel/room?name=${names[i]}`)));
      await membersEverywhere(nodes, 'room', names);

      const perSender = 20;
      for (let n = 0; n < perSender; n++) clients.forEach((client, i) => client.send(`${names[i]}:${n}`));
      for (const [i, client] of clients.entries()) {
        const got: string[] = [];
        while (got.length < perSender * 2) got.push(await client.next());
        for (const [j, sender] of names.entries()) {
          const fromSender = got.filter((text) => text.startsWith(`${sender}:`));
          if (i === j) assert.deepEqual(fromSender, [], `${names[i]} got its own messages back`);
          else assert.deepEqual(fromSender, Array.from({ length: perSender }, (_, n) => `${sender}:${n}`), `${names[i]} got ${sender}'s in order, once`);
        }
      }
      // A last word after everything: had anything come twice, it would be waiting before it.
      clients[1]?.send('last');
      assert.equal(await clients[0]?.next(), 'last', 'nothing arrived twice');
      assert.equal(await clients[2]?.next(), 'last', 'nothing arrived twice');
    });

    test('payloads on the bus that are not resobridge envelopes are logged and dropped', { skip }, async (t) => {
      const nodes = await startCluster(t, engine, 'garbage', 2);
      const [a, b] = await Promise.all([nodes[0]!.connect('/channel/junk?name=A'), nodes[1]!.connect('/channel/junk?name=B')]);
      await membersEverywhere(nodes, 'junk', ['A', 'B']);
      for (const payload of ['not json', '{"t":"m","n":"x","s":-1}', '{"t":"m","n":"x","s":1,"c":"no good","f":"x","x":"y"}', 'null', '[]']) {
        await engine.inject(engine.port, nodes.prefix, 'junk', payload);
      }
      a.send('still fine');
      assert.equal(await b.next(), 'still fine');
      await eventually(async () => nodes[1]!.output(), (output) => output.includes('not a resobridge envelope'), 'the bad payloads are logged');
    });

    test('presence and member lists span the nodes; history replays what any node sent', { skip }, async (t) => {
      const nodes = await startCluster(t, engine, 'presence', 3);
      const [n1, n2] = [nodes[1]!, nodes[2]!];
      const watcher = await watching(nodes, 'hall');
      const bob = await n1.connect('/channel/hall?name=Bob');
      const onN1 = await n1.connect('/api');
      // A node knows its own members at once, before its subscription to the channel is confirmed.
      assert.match(await onN1.ask('members|hall'), /^members\|hall\|\d+\|\d+.*\|Bob(\||$)/);
      assert.equal(await watcher.next(), 'joined|hall|Bob');
      const carol = await n2.connect('/api?name=Carol');
      assert.equal(await carol.ask('join|hall'), 'ok|join|hall');
      assert.equal(await watcher.next(), 'joined|hall|Carol');
      await membersEverywhere(nodes, 'hall', ['Bob', 'Carol', 'Watcher']);
      bob.socket.close();
      assert.equal(await watcher.next(), 'left|hall|Bob');
      await membersEverywhere(nodes, 'hall', ['Carol', 'Watcher']);

      // History: sent on two nodes, replayed on the third.
      for (let n = 1; n <= 4; n++) assert.equal(await carol.ask(`pub|hall|h${n}`), 'ok|pub|hall');
      assert.equal(await nextMatching(watcher, (text) => text === 'h4'), 'h4');
      watcher.send('h5');
      assert.equal(await carol.next(), 'msg|hall|Watcher|h5');
      // The replay is a snapshot of what the broker has stored; ask again until it has h5 (NATS stores asynchronously).
      const replay = await eventually(
        async () => {
          const late = await n2.connect('/channel/hall?history=3&name=Late');
          const got = [await late.next(), await late.next(), await late.next()];
          late.socket.close();
          return got;
        },
        (got) => got.at(-1) === 'h5',
        'history replay',
      );
      assert.deepEqual(replay, ['h3', 'h4', 'h5']);
    });

    test('a watched key is pushed when another node changes it (shared PostgreSQL store)', { skip: skipPostgres }, async (t) => {
      const nodes = await startCluster(t, engine, 'keys', 3, { env: { RESOBRIDGE_STORE: POSTGRES_URL } });
      const [watcher, writer] = await Promise.all([nodes[0]!.connect(`/api?ns=${nodes.prefix}`), nodes[2]!.connect(`/api?ns=${nodes.prefix}`)]);
      assert.equal(await watcher.ask('watch|score'), 'missing|score');
      assert.equal(await writer.ask('set|score|5'), 'ok|set|score');
      assert.equal(await watcher.next(), 'value|score|5');
      assert.equal(await writer.ask('incr|score|2'), 'value|score|7');
      assert.equal(await watcher.next(), 'value|score|7');
      assert.equal(await writer.ask('del|score'), 'ok|del|score');
      assert.equal(await watcher.next(), 'missing|score');
      assert.equal(await watcher.ask('get|score'), 'missing|score', 'the store is shared');
    });

    test('a killed node\'s members leave everywhere within the node TTL; the rest keep relaying', { skip }, async (t) => {
      const nodes = await startCluster(t, engine, 'death', 3);
      const watcher = await watching(nodes, 'deck');
      const stay = await nodes[1]!.connect('/channel/deck?name=Stay');
      await nodes[2]!.connect('/channel/deck?name=Doomed1');
      await nodes[2]!.connect('/channel/deck?name=Doomed2');
      await membersEverywhere(nodes, 'deck', ['Doomed1', 'Doomed2', 'Stay', 'Watcher']);
      const notices = [await watcher.next(), await watcher.next(), await watcher.next()].sort();
      assert.deepEqual(notices, ['joined|deck|Doomed1', 'joined|deck|Doomed2', 'joined|deck|Stay']);

      nodes[2]!.child.kill('SIGKILL');
      const left = [await watcher.next(), await watcher.next()].sort();
      assert.deepEqual(left, ['left|deck|Doomed1', 'left|deck|Doomed2']);
      await membersEverywhere(nodes.slice(0, 2), 'deck', ['Stay', 'Watcher']);
      stay.send('still here');
      assert.equal(await watcher.next(), 'still here');
    });

    test('a node that stalls past the node TTL is taken for dead, then comes back with its members', { skip }, async (t) => {
      const nodes = await startCluster(t, engine, 'stall', 2);
      const watcher = await watching(nodes, 'nap');
      const sleeper = await nodes[1]!.connect('/channel/nap?name=Sleeper');
      await membersEverywhere(nodes, 'nap', ['Sleeper', 'Watcher']);
      assert.equal(await watcher.next(), 'joined|nap|Sleeper');
      nodes[1]!.child.kill('SIGSTOP');
      t.after(() => nodes[1]!.child.kill('SIGCONT'));
      assert.equal(await watcher.next(), 'left|nap|Sleeper');
      nodes[1]!.child.kill('SIGCONT');
      // It finds its liveness lapsed, stores its member list again, and the others re-read it.
      assert.equal(await watcher.next(), 'joined|nap|Sleeper');
      await membersEverywhere(nodes, 'nap', ['Sleeper', 'Watcher']);
      sleeper.send('awake');
      assert.equal(await watcher.next(), 'awake');
    });

    test('a node stopped gracefully: its members leave everywhere at once, not after the node TTL', { skip }, async (t) => {
      // A TTL far beyond any wait here: only the node's own left events can explain the notice.
      const nodes = await startCluster(t, engine, 'graceful', 2, { timing: 'heartbeatMs=200&nodeTtlMs=600000' });
      const watcher = await watching(nodes, 'exit');
      await nodes[1]!.connect('/channel/exit?name=Leaving');
      await membersEverywhere(nodes, 'exit', ['Leaving', 'Watcher']);
      assert.equal(await watcher.next(), 'joined|exit|Leaving');
      nodes[1]!.child.kill('SIGTERM');
      assert.equal(await nextMatching(watcher, (text) => text.startsWith('left|')), 'left|exit|Leaving');
      await membersEverywhere(nodes.slice(0, 1), 'exit', ['Watcher']);
    });

    test('a broker outage: local service goes on, the outage is logged, and presence and relay heal when it returns', { skip }, async (t) => {
      const broker = await ownBroker(t, engine);
      const nodes = await startNodes(t, engine.url(broker.port, 'outage'), 3);
      const [n0, n1] = [nodes[0]!, nodes[1]!];
      const watcher = await watching(nodes, 'cafe');
      const local = await n0.connect('/channel/cafe?name=Local');
      const remote = await n1.connect('/channel/cafe?name=Remote');
      await membersEverywhere(nodes, 'cafe', ['Local', 'Remote', 'Watcher']);
      assert.deepEqual([await watcher.next(), await watcher.next()].sort(), ['joined|cafe|Local', 'joined|cafe|Remote']);

      await broker.stop();
      await eventually(async () => nodes.every((node) => node.output().includes('broker unreachable')), Boolean, 'every node logs the outage');
      local.send('during the outage');
      assert.equal(await watcher.next(), 'during the outage', 'a node keeps relaying between its own clients');
      // Unheard for nodeTtlMs, the other node's members count as gone.
      assert.equal(await watcher.next(), 'left|cafe|Remote');

      await broker.start();
      assert.equal(await watcher.next(), 'joined|cafe|Remote', 'presence is resynced');
      await eventually(async () => nodes.every((node) => node.output().includes('broker reachable again')), Boolean, 'every node logs the return');
      await membersEverywhere(nodes, 'cafe', ['Local', 'Remote', 'Watcher']);
      remote.send('after the outage');
      assert.equal(await nextMatching(watcher, (text) => !text.startsWith('joined|') && !text.startsWith('left|')), 'after the outage');
    });
  });
}

test('a broker that cannot be reached at startup stops serve with what to check', async () => {
  const { code, stderr } = await runCli(['serve', '--port', '0', '--broker', 'redis://127.0.0.1:1']);
  assert.equal(code, 1);
  assert.match(stderr, /Cannot reach the broker \(redis at redis:\/\/127\.0\.0\.1:1\).*Check that Redis runs/);
});

test('a broker setting that is not a URL names the key and the forms allowed', async () => {
  const { code, stderr } = await runCli(['serve', '--port', '0', '--broker', 'kafka://x']);
  assert.equal(code, 2);
  assert.match(stderr, /broker/);
  assert.match(stderr, /redis:\/\/127\.0\.0\.1:6379/);
});
