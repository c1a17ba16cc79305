// Counts the lines it reads; says who it was started for first.
import { createInterface } from 'node:readline';
console.log(`hello|${process.env.RESOBRIDGE_NAME}|${process.env.RESOBRIDGE_PATH}|${process.env.RESOBRIDGE_Q_COLOR}|${process.env.REMOTE_ADDR}`);
let count = 0;
for await (const line of createInterface({ input: process.stdin })) {
  count++;
  console.log(`count|${count}|${line}`);
  console.error(`counted ${count}`);
}
