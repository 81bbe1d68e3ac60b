// The field page's service worker (scope /m/): it keeps the page's shell so that the page
// opens without a network. It caches the shell's files only: no answer of /api/ (the agent's
// list and what they record live in IndexedDB, see app.js), no other page.
//
// The shell is served from the cache first and refreshed from the network behind it, so a new
// version of a file is used from the next load on; a new sw.js (a new VERSION) starts a new
// cache and deletes the old one.
const VERSION = 'drives-field-1';
const SHELL = ['/m/', '/m/app.js', '/m/app.css', '/m/manifest.webmanifest', '/m/icon.svg'];

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(VERSION);
    await cache.addAll(SHELL.map((u) => new Request(u, { credentials: 'same-origin', cache: 'reload' })));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const k of await caches.keys()) {
      if (k.startsWith('drives-field-') && k !== VERSION) await caches.delete(k);
    }
    await self.clients.claim();
  })());
});

// shellKey is the cache key of a request of the shell, or null: navigations within /m/ are the
// page (/m/), and the shell's own files are themselves.
function shellKey(request) {
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || request.method !== 'GET') return null;
  if (url.pathname.startsWith('/api/')) return null;
  if (request.mode === 'navigate') return url.pathname.startsWith('/m/') ? '/m/' : null;
  return SHELL.includes(url.pathname) && url.pathname !== '/m/' ? url.pathname : null;
}

// refreshed fetches a file of the shell and keeps it, unless it is no page of the shell (a
// redirect to the sign-in form when the session has ended, an error).
async function refreshed(key) {
  const res = await fetch(new Request(key, { credentials: 'same-origin', cache: 'no-cache' }));
  // A cache deleted meanwhile (signing out) stays deleted.
  if (res.ok && !res.redirected && res.type === 'basic' && (await caches.has(VERSION))) {
    const cache = await caches.open(VERSION);
    await cache.put(key, res.clone());
  }
  return res;
}

self.addEventListener('fetch', (event) => {
  const key = shellKey(event.request);
  if (!key) return; // the network's, as without a service worker
  event.respondWith((async () => {
    const cache = await caches.open(VERSION);
    const hit = await cache.match(key);
    if (hit) {
      event.waitUntil(refreshed(key).catch(() => { /* offline: the cached copy stays */ }));
      return hit;
    }
    if (event.request.mode === 'navigate') {
      // Not cached (signed out, or the cache was cleared): the server decides (sign-in form).
      return fetch(event.request);
    }
    return refreshed(key);
  })());
});
