// Package e2e holds the end-to-end tests of the web page in a real headless Chromium (see
// internal/browser), and the browser scripts they run: *.mjs files here, with the npm
// package (playwright-core) that drives the system's Chromium. The tests start everything
// themselves: PostgreSQL, a Temporal dev server, a worker and the web server.
package e2e
