/**
 * Bridges as written in the config file (`bridges:`), or as JSON in --bridges:
 *
 *   bridges:
 *     - type: exec              # one program per connection, websocketd-style
 *       path: /weather
 *       command: python3 weather.py
 *       stderr: client          # also send stderr lines to the client as stderr|<line> (default: log only)
 *     - type: program           # one long-running program attached to a channel
 *       channel: bot
 *       command: node bot.js
 */
import { z } from 'zod';
import { NAME, NAME_RULE } from '../protocol/names.js';

const command = z.string().min(1, 'the command is empty');

export const EXEC_SPEC = z
  .object({
    type: z.literal('exec'),
    path: z.string().regex(/^\/[\w./~-]*$/, 'path must start with / (e.g. /weather)'),
    command,
    stderr: z.enum(['log', 'client']).default('log'),
  })
  .strict();

export const PROGRAM_SPEC = z
  .object({
    type: z.literal('program'),
    channel: z.string().regex(NAME, `channel must be ${NAME_RULE}`),
    command,
    name: z.string().min(1).max(64).optional(),
  })
  .strict();

const channelName = z.string().regex(NAME, `a channel name is ${NAME_RULE}`);
const port = z.number().int().min(1).max(65535);

export const OSC_SPEC = z
  .object({
    type: z.literal('osc'),
    name: z.string().min(1).max(64).optional(),
    /** UDP port to receive OSC on. */
    listen: port.optional(),
    listenHost: z.string().default('127.0.0.1'),
    /** OSC address pattern (* for any run of characters) → channel. */
    map: z.record(z.string().startsWith('/'), channelName).default({ '/*': 'osc' }),
    /** Channel messages `/address|arg|arg…` in this channel are sent as OSC to host:port. */
    send: z.object({ channel: channelName, host: z.string().default('127.0.0.1'), port }).strict().optional(),
  })
  .strict()
  .refine((spec) => spec.listen !== undefined || spec.send !== undefined, { message: 'an osc bridge needs listen, send, or both' });

export const MQTT_SPEC = z
  .object({
    type: z.literal('mqtt'),
    name: z.string().min(1).max(64).optional(),
    url: z.string().regex(/^mqtts?:\/\/.+/, 'url must look like mqtt://host:1883 (or mqtts://)'),
    username: z.string().optional(),
    password: z.string().optional(),
    /** Topic filter (MQTT wildcards + and #) → channel. */
    subscribe: z.record(z.string().min(1), channelName).default({}),
    /** Channel → topic its messages are published to. */
    publish: z.record(channelName, z.string().min(1).regex(/^[^+#]+$/, 'a topic to publish to has no wildcards')).default({}),
    qos: z.union([z.literal(0), z.literal(1), z.literal(2)]).default(0),
    retain: z.boolean().default(false),
  })
  .strict();

export const WEBHOOK_SPEC = z
  .object({
    type: z.literal('webhook'),
    name: z.string().min(1).max(64).optional(),
    url: z.string().regex(/^https?:\/\/.+/, 'url must start with http:// or https://'),
    /** POST each message in this channel. */
    channel: channelName.optional(),
    /** POST each change of these keys (in namespace ns). */
    watch: z.array(z.string().min(1)).default([]),
    ns: z.string().regex(NAME, `ns must be ${NAME_RULE}`).default('default'),
    /** Attempts per message before it goes to the dead-letter file. */
    attempts: z.number().int().min(1).max(100).default(5),
    /** First retry delay; doubles each time, up to 30 s. */
    retryMs: z.number().int().min(10).max(60_000).default(1_000),
    /** Messages that may wait; past it the oldest goes to the dead-letter file. */
    queue: z.number().int().min(1).max(1_000_000).default(1_000),
    /** JSON lines of what could not be delivered. */
    deadLetter: z.string().min(1).default('data/webhook-dead-letters.jsonl'),
  })
  .strict()
  .refine((spec) => spec.channel !== undefined || spec.watch.length > 0, { message: 'a webhook needs a channel, keys to watch, or both' });

export const BRIDGES_SCHEMA = z.array(z.union([EXEC_SPEC, PROGRAM_SPEC, OSC_SPEC, MQTT_SPEC, WEBHOOK_SPEC]));
export type BridgeSpec = z.infer<typeof BRIDGES_SCHEMA>[number];
export type ExecSpec = z.infer<typeof EXEC_SPEC>;
export type ProgramSpec = z.infer<typeof PROGRAM_SPEC>;
export type OscSpec = z.infer<typeof OSC_SPEC>;
export type MqttSpec = z.infer<typeof MQTT_SPEC>;
export type WebhookSpec = z.infer<typeof WEBHOOK_SPEC>;
