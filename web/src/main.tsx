import { render } from 'preact';
import { App } from './app.js';
import { Feed } from './feed.js';
import './style.css';

const feed = new Feed();
feed.start();
render(<App feed={feed} />, document.getElementById('app') as HTMLElement);
