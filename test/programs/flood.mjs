// Writes 5,000 lines as fast as it can, then a line that is binary garbage and one far too long, then stays.
for (let i = 0; i < 5000; i++) process.stdout.write(`line ${i}\n`);
process.stdout.write(Buffer.from([0xff, 0xfe, 0x00, 0x41, 0x0a]));
process.stdout.write(`${'x'.repeat(100_000)}\n`);
process.stdout.write('done\n');
setInterval(() => {}, 1000);
