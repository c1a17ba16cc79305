/** The forms of the `broker` setting (kept apart from the drivers so config can check it cheaply). */
export const BROKER_SETTING = /^(memory|(redis|rediss|nats|tls):\/\/\S+)$/;
