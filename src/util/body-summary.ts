/** An HTTP body as one line of readable text: tags of an HTML page dropped, whitespace folded, cut at `maxChars`. */
export function bodySummary(body: string, maxChars = 160): string {
  const html = /<(!doctype|html|body|head)\b/i.test(body);
  const text = (html ? body.replace(/<[^>]*>/g, ' ') : body).replace(/\s+/g, ' ').trim();
  return text.length > maxChars ? `${text.slice(0, maxChars)}…` : text;
}
