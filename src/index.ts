/** resobridge as a library: embed the server, or build on its pieces. */
export { createServer, type ResobridgeServer, type ServerOptions } from './server/create-server.js';
export { ConfigError } from './config/errors.js';
export { ListenError } from './server/listen-error.js';
export { loadConfig, resolveConfig, defaults, type ConfigSources } from './config/load.js';
export { fields as configFields, configKeys, type Config, type ConfigKey } from './config/fields.js';
export { Connection, CloseCode } from './server/connection.js';
export { formatLine, escapeField } from './protocol/line.js';
export type { Broker, ChannelEvent } from './hub/broker.js';
export { VERSION } from './version.js';
