/**
 * The `home-assistant` bridge's pure parts: its address, which entities it
 * follows, how a state or an attribute is written for a world, and how a
 * world's line becomes a service call.
 */
import { escapeField, parseLine } from '../protocol/line.js';
import { formatNumber } from '../protocol/values.js';

/** Where Home Assistant listens when it runs on this machine. */
export const DEFAULT_HA_URL = 'ws://127.0.0.1:8123/api/websocket';

/**
 * The WebSocket API's address from what a user copies: the browser's
 * `http://homeassistant.local:8123` (or https, or a base path behind a proxy)
 * becomes `ws://homeassistant.local:8123/api/websocket` (or wss).
 */
export function websocketUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.protocol === 'http:') parsed.protocol = 'ws:';
  else if (parsed.protocol === 'https:') parsed.protocol = 'wss:';
  if (!parsed.pathname.endsWith('/api/websocket')) parsed.pathname = `${parsed.pathname.replace(/\/+$/, '')}/api/websocket`;
  parsed.hash = '';
  return parsed.toString();
}

/** An entity id (`light.kitchen`) or a pattern where `*` is any run of characters (`light.*`, `sensor.*_temperature`, `*`). */
export const ENTITY_PATTERN = /^(\*|[a-z0-9_*]+\.[a-z0-9_*]+)$/;
/** What a world may name: an entity id as Home Assistant writes them. */
const ENTITY_ID = /^[a-z0-9_]+\.[a-z0-9_]+$/;
/** A service, `turn_on`, or with its domain, `homeassistant.turn_on`. */
const SERVICE = /^[a-z0-9_]+(\.[a-z0-9_]+)?$/;

/** Which entity ids a list of ids and patterns takes. */
export function entityMatcher(patterns: string[]): (entityId: string) => boolean {
  const exact = new Set(patterns.filter((pattern) => !pattern.includes('*')));
  const globs = patterns
    .filter((pattern) => pattern.includes('*'))
    .map((pattern) => new RegExp(`^${pattern.split('*').map((part) => part.replaceAll('.', '\\.')).join('.*')}$`));
  return (entityId) => exact.has(entityId) || globs.some((glob) => glob.test(entityId));
}

/**
 * An attribute's value as a field a Parse node reads: numbers in invariant
 * culture (never exponents), booleans `true`/`false`, a list of 2 to 4
 * numbers (rgb_color, hs_color, xy_color) in the engine's literal form
 * `[255;128;0]`, null or absent as empty, anything else as JSON.
 */
export function attributeText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? formatNumber(value) : '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.length >= 2 && value.length <= 4 && value.every((n) => typeof n === 'number' && Number.isFinite(n))) {
    return `[${value.map((n) => formatNumber(n as number)).join(';')}]`;
  }
  return JSON.stringify(value);
}

/** `ha|<entity_id>|<state>`: what a world branches on for a state. */
export function stateLine(entityId: string, state: string): string {
  return `ha|${escapeField(entityId)}|${escapeField(state)}`;
}

/** `attr|<entity_id>|<attribute>|<value>`: one line per attribute, the value last. */
export function attributeLine(entityId: string, attribute: string, text: string): string {
  return `attr|${escapeField(entityId)}|${escapeField(attribute)}|${escapeField(text)}`;
}

/** What a world asked for. */
export interface ServiceCall {
  entityId: string;
  domain: string;
  service: string;
  data: Record<string, unknown> | undefined;
}

/** The world's shorthands: `on|light.kitchen` → light.turn_on, and so on. */
/** The homeassistant domain's services that act on the target entity, whatever its domain. */
const ENTITY_SERVICES = new Set(['turn_on', 'turn_off', 'toggle', 'update_entity']);
/** Service data keys Home Assistant reads as targets. */
const TARGET_KEYS = ['entity_id', 'device_id', 'area_id', 'floor_id', 'label_id'];

const SHORTHANDS: Record<string, string> = { on: 'turn_on', off: 'turn_off', toggle: 'toggle' };

/** The tags a world sends to this bridge. */
export const COMMAND_TAGS = ['call', ...Object.keys(SHORTHANDS)];

/**
 * A world's line as a service call, a problem to tell it (with the entity it
 * named, for `error|ha|<entity>|…`), or undefined for a line that is not for
 * this bridge (its own `ha|…` lines, another world's chatter).
 *   call|light.kitchen|turn_on|{"brightness":120}     (the JSON is optional; the service may be domain.service)
 *   on|light.kitchen   off|light.kitchen   toggle|light.kitchen
 */
export function parseCommand(text: string): ServiceCall | { entityId: string; problem: string } | undefined {
  const [tag = '', entityId = '', ...rest] = parseLine(text);
  if (!COMMAND_TAGS.includes(tag)) return undefined;
  if (!ENTITY_ID.test(entityId)) return { entityId, problem: `"${entityId.slice(0, 100)}" is not an entity id; write it as Home Assistant does, e.g. light.kitchen` };
  const domain = entityId.slice(0, entityId.indexOf('.'));
  const shorthand = SHORTHANDS[tag];
  if (shorthand) return { entityId, domain, service: shorthand, data: undefined };
  const [service = '', ...json] = rest;
  if (!SERVICE.test(service)) return { entityId, problem: `"${service.slice(0, 100)}" is not a service; write e.g. call|${entityId}|turn_on or call|${entityId}|homeassistant.toggle` };
  const [callDomain, callService] = service.includes('.') ? (service.split('.') as [string, string]) : [domain, service];
  // Another domain's service does not act on the entity (homeassistant.stop, script.*, shell_command.* ignore the target): only the generic entity ones may.
  if (callDomain !== domain && !(callDomain === 'homeassistant' && ENTITY_SERVICES.has(callService))) {
    return { entityId, problem: `"${service}" does not act on ${entityId}: only ${domain}.<service> or homeassistant.turn_on, turn_off, toggle or update_entity` };
  }
  // A `|` inside the JSON splits it into fields: join them back.
  const source = json.join('|').trim();
  if (source === '') return { entityId, domain: callDomain, service: callService, data: undefined };
  let data: unknown;
  try {
    data = JSON.parse(source);
  } catch (error) {
    return { entityId, problem: `the service data is not JSON (${(error as Error).message}); send an object such as {"brightness":120}` };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return { entityId, problem: 'the service data must be a JSON object such as {"brightness":120}' };
  // Home Assistant merges the call's target into its data, so these keys would add targets (a whole area, device, label) past entities:.
  const targeting = TARGET_KEYS.find((key) => Object.hasOwn(data, key));
  if (targeting) return { entityId, problem: `the service data may not hold "${targeting}": the target is the entity named in the line, ${entityId}` };
  return { entityId, domain: callDomain, service: callService, data: data as Record<string, unknown> };
}
