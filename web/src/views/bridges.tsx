import type { State } from '../../../src/dashboard/wire.js';
import { Badge } from '../components.js';

export function Bridges({ state }: { state: State }) {
  if (state.bridges.length === 0) {
    return (
      <section class="card">
        <p class="muted">
          No bridges are configured. Bridges connect channels to programs, HTTP, OSC and MQTT: see docs/bridges.md.
        </p>
      </section>
    );
  }
  return (
    <section class="card">
      <div class="table-wrap">
        <table class="rows">
          <thead>
            <tr>
              <th>Bridge</th>
              <th>Type</th>
              <th>Status</th>
              <th>Detail</th>
            </tr>
          </thead>
          <tbody>
            {state.bridges.map((bridge) => (
              <tr key={`${bridge.type} ${bridge.name}`}>
                <td>
                  <strong>{bridge.name}</strong>
                </td>
                <td>{bridge.type}</td>
                <td>
                  <Badge state={bridge.state} />
                </td>
                <td>{bridge.detail}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
