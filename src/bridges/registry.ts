/**
 * Every bridge type, and the one place that builds a bridge from its spec.
 * A type is its spec's zod schema (so a bad config names the bridge, the key
 * and what is allowed) and a function that makes the bridge. To add a type:
 * write its file (schema + class) and add one line to DRIVERS.
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Commands } from '../app/commands.js';
import type { Hub } from '../hub/hub.js';
import type { KeyValue } from '../store/keyvalue.js';
import type { Bridge } from './bridge.js';
import { EXEC_SPEC } from './exec.js';
import { HTTP_SPEC, HttpBridge } from './http.js';
import { HOME_ASSISTANT_SPEC, HomeAssistantBridge } from './home-assistant.js';
import { LLM_SPEC, LlmBridge } from './llm.js';
import { HEART_RATE_SPEC, HeartRateBridge } from './heart-rate.js';
import { MQTT_SPEC, MqttBridge } from './mqtt.js';
import { OBS_SPEC, ObsBridge } from './obs.js';
import { OSC_SPEC, OscBridge } from './osc.js';
import { PROGRAM_SPEC, ProgramBridge } from './program.js';
import { TWITCH_SPEC, TwitchBridge } from './twitch.js';
import { WEBHOOK_SPEC, WebhookBridge } from './webhook.js';
import { WEBSOCKET_SPEC, WebSocketBridge } from './websocket.js';

/** What a bridge may use of the server. */
export interface BridgeContext {
  hub: Hub;
  log: Logger;
  /** The key/value store, once it is open. */
  keyvalue: () => KeyValue | undefined;
  /** Command mode's verbs: a bridge may add its own (e.g. `ask|…`). */
  commands: Commands;
  maxMessageBytes: number;
}

interface Driver<T extends z.ZodType> {
  schema: T;
  create(spec: z.output<T>, context: BridgeContext): Bridge;
}

function driver<T extends z.ZodType>(schema: T, create: (spec: z.output<T>, context: BridgeContext) => Bridge): Driver<T> {
  return { schema, create };
}

const DRIVERS = {
  program: driver(PROGRAM_SPEC, (spec, c) => new ProgramBridge(spec, c.hub, c.maxMessageBytes, c.log)),
  osc: driver(OSC_SPEC, (spec, c) => new OscBridge(spec, c.hub, c.log)),
  mqtt: driver(MQTT_SPEC, (spec, c) => new MqttBridge(spec, c.hub, c.keyvalue, c.log, c.maxMessageBytes)),
  webhook: driver(WEBHOOK_SPEC, (spec, c) => new WebhookBridge(spec, c.hub, c.keyvalue, c.log)),
  http: driver(HTTP_SPEC, (spec, c) => new HttpBridge(spec, c)),
  'home-assistant': driver(HOME_ASSISTANT_SPEC, (spec, c) => new HomeAssistantBridge(spec, c)),
  llm: driver(LLM_SPEC, (spec, c) => new LlmBridge(spec, c.hub, c.commands, c.log)),
  websocket: driver(WEBSOCKET_SPEC, (spec, c) => new WebSocketBridge(spec, c.hub, c.keyvalue, c.maxMessageBytes, c.log)),
  twitch: driver(TWITCH_SPEC, (spec, c) => new TwitchBridge(spec, c.hub, c.log)),
  'heart-rate': driver(HEART_RATE_SPEC, (spec, c) => new HeartRateBridge(spec, c.hub, c.log)),
  obs: driver(OBS_SPEC, (spec, c) => new ObsBridge(spec, c.hub, c.maxMessageBytes, c.log)),
};

type Schemas = { [K in keyof typeof DRIVERS]: (typeof DRIVERS)[K]['schema'] };
/** A bridge that runs on its own (exec is an endpoint instead: one program per connection). */
export type RunningBridgeSpec = { [K in keyof Schemas]: z.output<Schemas[K]> }[keyof Schemas];
export type BridgeSpec = z.output<typeof EXEC_SPEC> | RunningBridgeSpec;
/** A spec as written (defaults may be left out). */
export type BridgeSpecInput = z.input<typeof EXEC_SPEC> | { [K in keyof Schemas]: z.input<Schemas[K]> }[keyof Schemas];

/** The bridge types, for help text. */
export const BRIDGE_TYPES = ['exec', ...Object.keys(DRIVERS)];

/** The `bridges:` setting; picked by `type`, so an error is the one of that type's schema (a key missing or of the wrong kind included). */
export const BRIDGES_SCHEMA = z.array(
  z.discriminatedUnion('type', [EXEC_SPEC, ...Object.values(DRIVERS).map((d) => d.schema)] as unknown as [typeof EXEC_SPEC], {
    error: (issue) => (issue.code === 'invalid_union' ? `each bridge needs a type: one of ${BRIDGE_TYPES.join(', ')}` : undefined),
  }),
) as unknown as z.ZodType<BridgeSpec[], BridgeSpecInput[]>;

/** Builds the bridge a spec describes (exec specs are endpoints, made by the server: undefined here). */
export function createBridge(spec: BridgeSpec, context: BridgeContext): Bridge | undefined {
  if (spec.type === 'exec') return undefined;
  const made = DRIVERS[spec.type] as unknown as Driver<z.ZodType<RunningBridgeSpec>>;
  return made.create(spec, context);
}
