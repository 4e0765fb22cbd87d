// The page of tools/e2e/ofrep_web_test.go: the official OpenFeature web SDK with the
// OFREP web provider, against an evaluator on another origin. The test drives it
// through window.harness and reads what it recorded.
import { OpenFeature, ProviderEvents } from "@openfeature/web-sdk";
import { OFREPWebProvider } from "@openfeature/ofrep-web-provider";

// Every event stream the provider opens, with what happened on it: the provider
// takes the global EventSource when it connects, so a subclass installed here sees
// them all. heardAt is when the latest message arrived on any of them.
const streams = [];
let heardAt = 0;
class RecordingEventSource extends EventSource {
  constructor(url, init) {
    super(url, init);
    const s = { url: String(url), opens: 0, errors: 0, messages: 0 };
    streams.push(s);
    this.addEventListener("open", () => { s.opens++; });
    this.addEventListener("error", () => { s.errors++; });
    this.addEventListener("message", () => { s.messages++; heardAt = now(); });
  }
}
window.EventSource = RecordingEventSource;

// now is the wall-clock time in milliseconds, with the fraction the browser gives.
const now = () => performance.timeOrigin + performance.now();

const state = {
  status: "loading", // the client's provider status after start, or "failed"
  error: "",         // why start failed
  value: null,       // the flag's value, as the client evaluates it now
  changes: [],       // {at, heardAt, value, flags}: each ConfigurationChanged, in order
  events: [],        // {at, type, message}: every provider event
};

function show() {
  document.getElementById("status").textContent = state.status;
  document.getElementById("value").textContent = JSON.stringify(state.value);
}

let client;
const waiters = []; // {after, value, resolve}: see waitChange

// settle resolves the waiters that the changes so far satisfy.
function settle() {
  for (let i = waiters.length - 1; i >= 0; i--) {
    const w = waiters[i];
    const c = state.changes.findIndex((c, j) => j >= w.after && c.value === w.value);
    if (c >= 0) {
      waiters.splice(i, 1);
      w.resolve({ index: c, ...state.changes[c] });
    }
  }
}

window.harness = {
  // start sets the provider up for the evaluator at baseUrl with the SDK key, the
  // context {targetingKey}, and watches the boolean flag; it resolves once the
  // provider is ready (or failed to be) with what the page knows.
  async start({ baseUrl, key, flag, targetingKey }) {
    client = OpenFeature.getClient();
    const read = () => client.getBooleanValue(flag, false);
    for (const type of Object.values(ProviderEvents)) {
      client.addHandler(type, (details) => {
        const at = now();
        state.events.push({ at, type, message: details?.message ?? "" });
        if (type === ProviderEvents.ConfigurationChanged) {
          state.value = read();
          state.changes.push({ at, heardAt, value: state.value, flags: details?.flagsChanged ?? [] });
          show();
          settle();
        }
      });
    }
    const provider = new OFREPWebProvider({
      baseUrl,
      headers: [["Authorization", "Bearer " + key]],
      // A fresh browser context has nothing cached; no cache keeps it so.
      cacheMode: "disabled",
    });
    try {
      await OpenFeature.setProviderAndWait(provider, { targetingKey });
      state.value = read();
      state.status = client.providerStatus;
    } catch (e) {
      state.status = "failed";
      state.error = String(e && e.message ? e.message : e);
    }
    show();
    return this.state();
  },

  // waitChange resolves with the first change from the index after on that made the
  // flag's value value ({index, at, heardAt, value, flags}), or null after timeoutMs.
  waitChange(after, value, timeoutMs) {
    return new Promise((resolve) => {
      const w = { after, value, resolve };
      waiters.push(w);
      setTimeout(() => {
        const i = waiters.indexOf(w);
        if (i >= 0) {
          waiters.splice(i, 1);
          resolve(null);
        }
      }, timeoutMs);
      settle();
    });
  },

  // state is what the page recorded, and the streams it opened.
  state() {
    return { ...state, providerStatus: client ? client.providerStatus : "", streams };
  },
};

document.getElementById("status").textContent = "ready to start";
