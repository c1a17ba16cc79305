/** A URL fit for logs and status pages: any password replaced by ***. */
export function redactUrl(url: string, fallback: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return fallback;
  }
}
