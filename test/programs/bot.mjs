// Shared mode: answers the sender privately, tells the channel, and dies on "die".
import { createInterface } from 'node:readline';
for await (const line of createInterface({ input: process.stdin })) {
  const [sender, text] = line.split('|').map(decodeURIComponent);
  if (text === 'die') process.exit(1);
  console.log(`@${sender}|you said ${text}`);
  console.log(`${sender} said ${text}`);
}
