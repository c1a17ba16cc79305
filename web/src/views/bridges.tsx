import type { State } from '../../../src/dashboard/wire.js';
import { Badge, Table } from '../components.js';

export function Bridges({ state }: { state: State }) {
  if (state.bridges.length === 0) {
    return (
      <section class="card">
        <p class="muted">
          No bridges are configured. Bridges connect channels to programs, HTTP, OSC, MQTT and apps' WebSocket APIs: see docs/bridges.md.
        </p>
      </section>
    );
  }
  return (
    <section class="card">
      <Table columns={['Bridge', 'Type', 'Status', 'Detail']}>
        {state.bridges.map((bridge) => (
          <tr key={`${bridge.type} ${bridge.name}`}>
            <td>
              <strong>{bridge.name}</strong>
            </td>
            <td>{bridge.type}</td>
            <td>
              <Badge state={bridge.state} label={bridge.label} />
            </td>
            <td>{bridge.detail}</td>
          </tr>
        ))}
      </Table>
    </section>
  );
}
