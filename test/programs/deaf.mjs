// Never reads its stdin; stays until it is ended.
setInterval(() => {}, 1_000);
