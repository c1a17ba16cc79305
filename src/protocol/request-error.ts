/**
 * An error the client caused. Its message goes back to that client as
 * `error|<verb>|<message>`, so it says what was wrong and what to send instead.
 */
export class RequestError extends Error {
  override name = 'RequestError';
}
