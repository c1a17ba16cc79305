// Says goodbye and fails.
console.log('bye');
process.exit(3);
