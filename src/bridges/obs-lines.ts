/**
 * The `obs` bridge's world lines, both ways, as pure functions (the
 * connection lives in obs.ts).
 *
 * World → OBS (a tag may carry a request id, `scene#7|Intro`, repeated in the reply):
 *   scene|<scene>                        SetCurrentProgramScene
 *   mute|<input>  mute|<input>|true|false|toggle   SetInputMute / ToggleInputMute
 *   unmute|<input>                       SetInputMute false
 *   stream|start|stop|toggle             StartStream / StopStream / ToggleStream
 *   record|start|stop|toggle|pause|resume   StartRecord / … / ResumeRecord
 *   text|<input>|<text>                  SetInputSettings {inputSettings: {text}}
 *   obs|<RequestType>|<JSON object>      any request (the JSON is optional)
 *   state                                the bridge sends program|, streaming| and recording| again
 *
 * OBS → world:
 *   program|<scene>                      CurrentProgramSceneChanged (and on connect)
 *   muted|<input>|true|false             InputMuteStateChanged
 *   streaming|<state>|<active>           StreamStateChanged (state: starting, started, stopping, stopped, reconnecting, reconnected)
 *   recording|<state>|<active>           RecordStateChanged (also paused, resumed)
 *   ok|obs|<RequestType>[|<JSON>]        OBS did it (the JSON is its responseData, when it has one)
 *   error|obs|<RequestType or tag>|<why> OBS refused (its comment), or the line was wrong
 */
import { escapeField, parseLine } from '../protocol/line.js';
import { formatValue } from '../protocol/values.js';

export interface ObsRequest {
  requestType: string;
  requestData?: Record<string, unknown>;
}

/** What a world line asks for: a request, the current state, a mistake to answer, or nothing (not for this bridge). */
export type WorldAsk =
  | { kind: 'request'; tag: string; id: string | undefined; request: ObsRequest }
  | { kind: 'state'; tag: string; id: string | undefined }
  | { kind: 'mistake'; tag: string; id: string | undefined; why: string };

/** Tags the bridge itself writes: a line that starts with one is an echo of OBS's news, not a request. */
export const OBS_NEWS_TAGS = new Set(['program', 'muted', 'streaming', 'recording', 'ok', 'error']);

const USAGE = 'send scene|<scene>, mute|<input>|true/false/toggle, unmute|<input>, stream|start/stop/toggle, record|start/stop/toggle/pause/resume, text|<input>|<text>, state, or obs|<RequestType>|<JSON>';

/**
 * Raw requests no world may send (lower case): the stream key (Get/SetStreamServiceSettings), and
 * files written where the request says (a screenshot path, the record directory, profile settings).
 */
const WITHHELD = new Set(['getstreamservicesettings', 'setstreamservicesettings', 'savesourcescreenshot', 'setrecorddirectory', 'setprofileparameter']);

const STREAM: Record<string, string> = { start: 'StartStream', stop: 'StopStream', toggle: 'ToggleStream' };
const RECORD: Record<string, string> = { start: 'StartRecord', stop: 'StopRecord', toggle: 'ToggleRecord', pause: 'PauseRecord', resume: 'ResumeRecord' };

/** A world line → what it asks of OBS; undefined for a line that is not for this bridge (OBS's own news relayed back). */
export function readWorldLine(text: string): WorldAsk | undefined {
  const [head = '', ...args] = parseLine(text);
  const hash = head.indexOf('#');
  const tag = (hash < 0 ? head : head.slice(0, hash)).trim().toLowerCase();
  const id = hash < 0 ? undefined : head.slice(hash + 1);
  if (OBS_NEWS_TAGS.has(tag)) return undefined;
  const request = (requestType: string, requestData?: Record<string, unknown>): WorldAsk => ({ kind: 'request', tag, id, request: { requestType, requestData } });
  // A line with no `|` is all tag: what is echoed of it is cut short.
  const shown = [...(tag || head).slice(0, 128)].slice(0, 64).join('');
  const mistake = (why: string): WorldAsk => ({ kind: 'mistake', tag: shown, id, why });
  // The last field may hold an unescaped `|` (typed text, JSON): it is everything after the fields before it.
  const rest = (from: number) => args.slice(from).join('|');
  switch (tag) {
    case 'scene':
      return args[0] ? request('SetCurrentProgramScene', { sceneName: args[0] }) : mistake('send scene|<scene name>');
    case 'mute':
    case 'unmute': {
      if (!args[0]) return mistake(`send ${tag}|<input name>`);
      const how = tag === 'unmute' ? 'false' : (args[1] ?? 'true').trim().toLowerCase();
      if (how === 'toggle') return request('ToggleInputMute', { inputName: args[0] });
      if (how !== 'true' && how !== 'false') return mistake(`send mute|<input>|true, false or toggle (not "${args[1] ?? ''}")`);
      return request('SetInputMute', { inputName: args[0], inputMuted: how === 'true' });
    }
    case 'stream':
    case 'record': {
      const table = tag === 'stream' ? STREAM : RECORD;
      const requestType = table[(args[0] ?? '').trim().toLowerCase()];
      return requestType ? request(requestType) : mistake(`send ${tag}|${Object.keys(table).join(', ')}`);
    }
    case 'text':
      return args[0] && args.length >= 2 ? request('SetInputSettings', { inputName: args[0], inputSettings: { text: rest(1) } }) : mistake('send text|<input name>|<text>');
    case 'obs': {
      const requestType = args[0]?.trim();
      if (!requestType || !/^[A-Za-z]+$/.test(requestType)) return mistake('send obs|<RequestType>|<JSON object>, e.g. obs|GetSceneList or obs|SetInputVolume|{"inputName":"Mic","inputVolumeDb":-6}');
      if (WITHHELD.has(requestType.toLowerCase())) return mistake(`${requestType} is not sent to OBS from a world: it reads the stream key, sends the stream elsewhere, or writes files on this computer`);
      if (args.length < 2 || rest(1).trim() === '') return request(requestType);
      let data: unknown;
      try {
        data = JSON.parse(rest(1));
      } catch (error) {
        return mistake(`the request data is not JSON (${(error as Error).message}); send obs|${requestType}|{"key":"value"}`);
      }
      if (typeof data !== 'object' || data === null || Array.isArray(data)) return mistake(`the request data must be a JSON object, e.g. obs|${requestType}|{"key":"value"}`);
      return request(requestType, data as Record<string, unknown>);
    }
    case 'state':
      return { kind: 'state', tag, id };
    default:
      return mistake(`unknown line "${shown}": ${USAGE}`);
  }
}

/** A line for the world: `tag` (with `#id` when the ask had one) and escaped fields. */
export function line(tag: string, id: string | undefined, ...fields: (string | boolean)[]): string {
  const head = id === undefined ? tag : `${tag}#${escapeField(id)}`;
  return [head, ...fields.map((field) => escapeField(formatValue(field)))].join('|');
}

/** `OBS_WEBSOCKET_OUTPUT_STARTED` → `started`. */
export function outputState(state: string): string {
  return state.replace(/^OBS_WEBSOCKET_OUTPUT_/, '').toLowerCase();
}

/** A state line with the key the hub coalesces it by (a world that falls behind gets the latest per key). */
export interface News {
  text: string;
  coalesce: string;
}

export const programNews = (sceneName: string): News => ({ text: line('program', undefined, sceneName), coalesce: 'program' });
export const mutedNews = (inputName: string, muted: boolean): News => ({ text: line('muted', undefined, inputName, muted), coalesce: `muted|${inputName}` });
export const outputNews = (output: 'streaming' | 'recording', state: string, active: boolean): News => ({ text: line(output, undefined, state, active), coalesce: output });
