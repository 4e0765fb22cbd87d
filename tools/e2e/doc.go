// Package e2e holds the dashboard's end-to-end tests: they build the admin and
// evaluator binaries, run them as processes on free loopback ports against the test
// PostgreSQL (a fresh migrated database per test) and Redis, set things up through the
// admin API with the bootstrap token, and drive headless Chromium through the web
// dashboard as a person would, checking what the page shows and what the API then
// reads. scripts/test runs them (make test); without PostgreSQL, Redis or Chromium they
// fail there, and skip elsewhere.
//
// With SWITCHYARD_SCREENSHOTS set to a directory, they save the main screens there at
// 1280x800 (flags.png, flag.png, playground.png, history.png, settings.png, login.png);
// docs/screenshots holds the committed ones:
//
//	SWITCHYARD_SCREENSHOTS=$PWD/docs/screenshots scripts/test ./tools/e2e/
package e2e
