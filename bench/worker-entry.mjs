// Worker threads on Node 20 do not get the parent's tsx loader: register it here, then load the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
