import { useEffect, useState } from 'preact/hooks';
import type { Feed } from './feed.js';

/** Re-renders the component whenever the feed changes. */
export function useFeed(feed: Feed): Feed {
  const [, setVersion] = useState(0);
  useEffect(() => feed.subscribe(() => setVersion((v) => v + 1)), [feed]);
  return feed;
}
