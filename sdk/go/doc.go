// Package switchyard is the Go server SDK of Switchyard: it downloads an environment's
// flag definitions once, evaluates flags in process with the same engine as the
// evaluator (package github.com/switchyard/switchyard/pkg/eval), and keeps the
// definitions current.
//
// # Keeping current
//
// New loads the definitions (GET /api/v1/flags with the server SDK key) and then
// follows the definitions stream (GET /api/v1/stream): each announced version newer
// than the one held is fetched, compiled and swapped in atomically. When the stream
// fails the client reconnects with exponential backoff and full jitter, and polls the
// definitions meanwhile; a reconnecting stream announces whatever was missed. The
// client never replaces definitions with an older version, so no answer goes back in
// time, whichever evaluator replica answers. Through any outage it keeps serving the
// last definitions it holds; a bootstrap file (WithBootstrapFile) lets it start ready
// while the evaluator cannot be reached.
//
// # Evaluating
//
// Bool, String, Number and JSON answer a flag of their kind for a context, or the
// caller's default when the flag is missing, of another kind, or cannot be evaluated;
// their Detail variants say why. Evaluate returns the engine's result as the evaluator
// would. Evaluating takes no lock, does no I/O and, for a context reused across calls,
// allocates nothing.
//
// # Reporting
//
// Every evaluation is counted by flag, variant and reason, and the counts are sent to
// the evaluator in batches (POST /api/v1/events) every WithFlushInterval and on Close,
// so the dashboard's counts and stale-flag detection see SDK traffic.
//
// # Watching
//
// Ready, WaitReady and OnReady tell when definitions are first held; OnChange reports
// each new version with the keys of the flags it changed; Status and OnStatus say
// whether the client is ready, stale (cut off from the evaluator for longer than
// WithStaleAfter) or in error (its key was refused). The OpenFeature provider in
// github.com/switchyard/switchyard/sdk/go/openfeature builds on these.
package switchyard
