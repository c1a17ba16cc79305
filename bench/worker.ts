/**
 * A load-generator thread. The main thread gives it a job (its share of the
 * connections); it connects, says `ready`, runs on `go`, and on `stop` stops
 * sending and reports what it measured. Counts only what happened between
 * go and stop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import WebSocket, { WebSocketServer } from 'ws';
import { newHistogram, nowMicros, record } from './histogram.js';
import { makeAppPayload, makePayload, sentAt } from './payload.js';
import type { Job, WorkerResult } from './jobs.js';

const port = parentPort;
if (!port) throw new Error('bench/worker.ts runs as a worker thread');

const job = workerData as Job;
const histogram = newHistogram();
let running = false;
let completed = 0;
let failures = 0;
const sockets: WebSocket[] = [];

function open(url: string, localAddress?: string): Promise<WebSocket | undefined> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { perMessageDeflate: false, localAddress });
    socket.once('open', () => {
      sockets.push(socket);
      resolve(socket);
    });
    socket.once('error', () => {
      failures++;
      resolve(undefined);
    });
  });
}

/** Opens `count` connections, at most `concurrency` at a time. */
async function openMany(urls: string[], concurrency: number): Promise<WebSocket[]> {
  const opened: WebSocket[] = [];
  let next = 0;
  const lane = async () => {
    while (next < urls.length) {
      const url = urls[next++] as string;
      const socket = await open(url);
      if (socket) opened.push(socket);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, urls.length) }, lane));
  return opened;
}

/** Echo: each connection keeps `inFlight` messages outstanding; latency from the stamp in each reply. */
function echo(socket: WebSocket, inFlight: number, payload: () => string): () => void {
  socket.on('message', (data) => {
    if (!running) return;
    record(histogram, nowMicros() - sentAt(String(data)));
    completed++;
    socket.send(payload());
  });
  return () => {
    for (let i = 0; i < inFlight; i++) socket.send(payload());
  };
}

/** Receives channel messages: each one is a delivery, with its latency. */
function subscribe(socket: WebSocket): void {
  socket.on('message', (data) => {
    if (!running) return;
    record(histogram, nowMicros() - sentAt(String(data)));
    completed++;
  });
}

/**
 * Publishes with at most `window` messages not yet seen back (the publisher
 * joins with echo=1, so its own copy confirms the fan-out happened).
 */
function publish(socket: WebSocket, window: number, payload: () => string, countOwn: boolean, confirm = socket): () => void {
  confirm.on('message', (data) => {
    if (!running) return;
    if (countOwn) {
      record(histogram, nowMicros() - sentAt(String(data)));
      completed++;
    }
    socket.send(payload());
  });
  return () => {
    for (let i = 0; i < window; i++) socket.send(payload());
  };
}

/**
 * Flooders: each sends as fast as its socket takes it (keeping its own buffer small), until stop. One that the
 * server closes connects again from its address, as an attacker would: the flood lasts the whole window.
 */
function flood(url: string, addresses: string[], payload: () => string): () => void {
  const flooders = new Map<string, WebSocket>();
  const connect = async (address: string) => {
    const socket = await open(url, address);
    if (!socket || !running) return;
    flooders.set(address, socket);
    socket.on('error', () => {});
    socket.once('close', () => {
      flooders.delete(address);
      if (running) setTimeout(() => void connect(address), 50);
    });
  };
  const pump = () => {
    if (!running) return;
    for (const socket of flooders.values()) {
      for (let i = 0; i < 20 && socket.readyState === WebSocket.OPEN && socket.bufferedAmount < 64 * 1024; i++) {
        socket.send(payload());
        sent++;
      }
    }
    setImmediate(pump);
  };
  return () => {
    for (const address of addresses) void connect(address);
    pump();
  };
}
let sent = 0;

/** One request at a time, the next no sooner than `intervalMs` after the last was sent; latency per round trip. */
function steady(socket: WebSocket, intervalMs: number, payload: () => string): () => void {
  let sentAtMs = 0;
  const sendOne = () => {
    if (!running) return;
    sentAtMs = performance.now();
    socket.send(payload());
  };
  socket.on('message', (data) => {
    const text = String(data);
    const stamp = sentAt(text);
    if (!running || Number.isNaN(stamp)) return; // server notices (e.g. dropped|n) are not replies
    record(histogram, nowMicros() - stamp);
    completed++;
    setTimeout(sendOne, Math.max(0, intervalMs - (performance.now() - sentAtMs)));
  });
  return sendOne;
}

async function prepare(): Promise<(() => void)[]> {
  switch (job.kind) {
    case 'echo': {
      const opened = await openMany(Array(job.connections).fill(job.url), 50);
      return opened.map((socket) => echo(socket, job.inFlight, makePayload(job.size)));
    }
    case 'fanout': {
      const subscribers = await openMany(Array(job.subscribers).fill(job.url), 50);
      subscribers.forEach(subscribe);
      if (!job.publisherUrl) return [];
      const publisher = await open(job.publisherUrl);
      const confirm = job.confirmUrl ? await open(job.confirmUrl) : publisher;
      return publisher && confirm ? [publish(publisher, job.window, makePayload(job.size), false, confirm)] : [];
    }
    case 'publishers': {
      const opened = await openMany(job.urls, 50);
      return opened.map((socket) => publishMany(socket, job.window, makePayload(job.size)));
    }
    case 'app': {
      const bridge = await appConnection(job.port);
      const subscribers = await openMany(Array(job.subscribers).fill(job.url), 50);
      subscribers.forEach(subscribe);
      const confirm = await open(job.url);
      return bridge && confirm ? [publish(bridge, job.window, makeAppPayload(job.size), false, confirm)] : [];
    }
    case 'idle':
      await openMany(Array(job.connections).fill(job.url), job.concurrency);
      return [];
    case 'storm': {
      await openMany(Array(job.warmup).fill(job.url), job.concurrency);
      const started = performance.now();
      await openMany(Array(job.connections).fill(job.url), job.concurrency);
      stormMs = performance.now() - started;
      return [];
    }
    case 'command': {
      const opened = await openMany(Array(job.connections).fill(job.url), 50);
      return opened.map((socket, index) => commands(socket, index, job.inFlight));
    }
    case 'flood':
      return [flood(job.url, Array.from({ length: job.connections }, (_, i) => `127.0.0.${job.firstAddress + i}`), makePayload(job.size))];
    case 'steady': {
      const socket = await open(job.url);
      return socket ? [steady(socket, job.intervalMs, makePayload(job.size))] : [];
    }
  }
}
let stormMs = 0;

/** Listens as the app on `port` and waits (up to 30 s: the bridge retries with backoff) for the server's bridge to connect. */
async function appConnection(port: number): Promise<WebSocket | undefined> {
  const server = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false });
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      failures++;
      resolve(undefined);
    }, 30_000);
    server.once('connection', (socket) => {
      clearTimeout(timer);
      sockets.push(socket);
      resolve(socket);
    });
  });
}

/** Many publishers: every message received is a delivery; a connection's own echo also frees its window. */
function publishMany(socket: WebSocket, window: number, payload: () => string): () => void {
  const mine = new Set<string>();
  socket.on('message', (data) => {
    if (!running) return;
    const text = String(data);
    if (mine.delete(text)) {
      const next = payload();
      mine.add(next);
      socket.send(next);
      return;
    }
    record(histogram, nowMicros() - sentAt(text));
    completed++;
  });
  return () => {
    for (let i = 0; i < window; i++) {
      const next = payload();
      mine.add(next);
      socket.send(next);
    }
  };
}

/** Command mode: alternating set and get, `inFlight` outstanding; replies come in order. */
function commands(socket: WebSocket, index: number, inFlight: number): () => void {
  const sentTimes: number[] = [];
  let n = 0;
  const sendOne = () => {
    const key = `bench-${index}-${n % 100}`;
    socket.send(n % 2 === 0 ? `set|${key}|${n}` : `get|${key}`);
    sentTimes.push(nowMicros());
    n++;
  };
  socket.on('message', () => {
    if (!running) return;
    const sent = sentTimes.shift();
    if (sent !== undefined) record(histogram, nowMicros() - sent);
    completed++;
    sendOne();
  });
  return () => {
    for (let i = 0; i < inFlight; i++) sendOne();
  };
}

const starters = await prepare();
port.postMessage({ type: 'ready', connections: sockets.length, failures });
port.on('message', (message: { type: 'go' | 'reset' | 'stop' }) => {
  if (message.type === 'go') {
    running = true;
    for (const start of starters) start();
    return;
  }
  if (message.type === 'reset') {
    // End of the warm-up: count from here.
    completed = 0;
    sent = 0;
    histogram.fill(0);
    return;
  }
  running = false;
  const result: WorkerResult = { completed, failures, connections: sockets.length, stormMs, histogram, sent };
  for (const socket of sockets) socket.terminate();
  port.postMessage({ type: 'result', result }, [histogram.buffer as ArrayBuffer]);
});
