/** Channel names and key namespaces share one form: what fits a URL path and a log line without escaping. */
export const NAME = /^[A-Za-z0-9._-]{1,64}$/;
export const NAME_RULE = '1 to 64 letters, digits, dots, dashes or underscores';
