// Cloudflare Workers (workerd, wrangler): the .wasm import is a compiled
// WebAssembly.Module, instantiated synchronously once per isolate.
import wasm from "./edge_options_bg.wasm";
import { initSync } from "./edge_options.js";

initSync({ module: wasm });

export { Store } from "./hot.js";

// The edge-options Worker over a service binding or HTTP (plain JS, no wasm;
// import "edge-options/client" to ship only this).
export { EdgeOptionsClient } from "./client.js";
